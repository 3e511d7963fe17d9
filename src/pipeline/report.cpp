#include "rlhf/pipeline/report.h"

#include <cstdio>
#include <sstream>

#include "rlhf/reward/accuracy.h"

namespace rlhf::pipeline {
namespace {

std::string num(double v, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// "mean ± stderr" of a Stats object (eval::to_json), or "-" when absent.
std::string stat(const nlohmann::ordered_json& j) {
  if (!j.is_object() || !j.contains("mean")) return "-";
  return num(j["mean"].get<double>()) + " ± " + num(j.value("stderr", 0.0));
}

std::string percent(const nlohmann::ordered_json& j) {
  return j.is_number() ? num(100.0 * j.get<double>(), 1) + "%" : "-";
}

// Newlines inside sample texts would break the Markdown list.
std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

void row(std::ostringstream& out, const std::string& name, const std::string& a, const std::string& b) {
  out << "| " << name << " | " << a << " | " << b << " |\n";
}

void samples(std::ostringstream& out, const std::string& title, const nlohmann::ordered_json& eval) {
  if (!eval.contains("samples") || eval["samples"].empty()) return;
  out << "\n### " << title << "\n\n";
  for (const auto& s : eval["samples"]) {
    out << "- " << one_line(s.value("query", "")) << " **→** " << one_line(s.value("response", "")) << " *(score "
        << num(s.value("score", 0.0), 2) << ")*\n";
  }
}

}  // namespace

std::string render_summary(const nlohmann::ordered_json& s) {
  std::ostringstream out;
  out << "# rlhf train: " << s.value("run_dir", "") << "\n\n";
  out << "- reward: " << s.value("reward", "") << "\n";
  if (s.contains("kl")) {
    const auto& kl = s["kl"];
    out << "- KL coefficient: " << (kl.value("adaptive", false) ? "adaptive, target " + num(kl.value("target", 0.0), 2)
                                                               : std::string("fixed"))
        << ", beta " << num(kl.value("initial_kl_coef", 0.0), 4);
    if (s.contains("ppo") && s["ppo"].contains("final_kl_coef")) {
      out << " -> " << num(s["ppo"]["final_kl_coef"].get<double>(), 4);
    }
    out << "\n";
  }
  if (s.contains("labels")) {
    const auto& l = s["labels"];
    out << "- labels: " << l.value("questions", 0) << " questions answered by " << l.value("labeler", "")
        << " (noise " << num(l.value("noise", 0.0), 2) << ")";
    if (l.contains("tied_share") && l["tied_share"].is_number()) {
      out << "; the labeler's top score is tied in " << percent(l["tied_share"]) << " of them";
    }
    out << "\n";
  }
  if (s.contains("reward_model")) {
    const nlohmann::json rm = s["reward_model"];
    out << "- reward model: ";
    if (rm.contains("validation_accuracy")) {
      out << reward::describe_accuracy(rm, "validation") << " on " << rm.value("validation_count", 0)
          << " held-out comparisons; ";
    }
    out << reward::describe_accuracy(rm, "train") << "\n";
  }
  if (s.contains("ppo") && s["ppo"].contains("last_batches")) {
    const auto& p = s["ppo"];
    out << "- PPO: " << p.value("batches", 0) << " batches, " << p.value("episodes", 0)
        << " episodes; mean over the last " << p.value("last_batches", 0) << " batches: score "
        << num(p.value("score_mean", 0.0)) << " (first batch " << num(p.value("first_score_mean", 0.0)) << "), KL "
        << num(p.value("kl_mean", 0.0)) << "\n";
  }
  if (s.contains("rounds")) {
    out << "\nBatched collection, per round (policy at the end of the round's PPO episodes):\n\n";
    out << "| round | labels so far | reward-model validation accuracy | labeler score | KL |\n|---|---|---|---|---|\n";
    for (const auto& r : s["rounds"]) {
      const auto& p = r["policy"];
      out << "| " << r.value("round", 0) << " | " << r.value("labels", 0) << " | "
          << (r.contains("reward_model_validation_accuracy") ? num(r["reward_model_validation_accuracy"].get<double>())
                                                              : std::string("-"))
          << (r.contains("reward_model_validation_ceiling") && r["reward_model_validation_ceiling"].is_number()
                  ? " (ceiling " + num(r["reward_model_validation_ceiling"].get<double>()) + ")"
                  : std::string())
          << " | " << (p.contains("scores") && p["scores"].contains("labeler") ? stat(p["scores"]["labeler"]) : "-")
          << " | " << stat(p["kl"]) << " |\n";
    }
  }
  if (!s.contains("initial") || !s.contains("final")) return out.str();
  const auto& a = s["initial"];
  const auto& b = s["final"];
  out << "\nOn " << s.value("eval_queries", 0) << " evaluation queries (mean ± standard error):\n\n";
  row(out, "", "initial policy", "final policy");
  out << "|---|---|---|\n";
  row(out, "score (what PPO maximises)", stat(a["score"]), stat(b["score"]));
  if (a.contains("scores")) {
    for (const auto& [name, value] : a["scores"].items()) {
      row(out, name + " score", stat(value), b.contains("scores") ? stat(b["scores"][name]) : "-");
    }
  }
  row(out, "KL to the initial policy (nats)", stat(a["kl"]), stat(b["kl"]));
  row(out, "entropy (nats)", stat(a["entropy"]), stat(b["entropy"]));
  row(out, "without a truncate token (penalised)", percent(a["penalized_fraction"]), percent(b["penalized_fraction"]));
  row(out, "response tokens", num(a.value("mean_length", 0.0), 1), num(b.value("mean_length", 0.0), 1));
  samples(out, "Samples of the initial policy", a);
  samples(out, "Samples of the final policy", b);
  return out.str();
}

}  // namespace rlhf::pipeline
