// `rlhf eval`: one or more policies measured on the same held-out queries, with the same seed, the
// way the paper reports them (paper-spec section 6): reward-model score with its standard error, KL to
// the reference policy, a mock labeler's score, entropy, response length, the fractions truncated and
// penalized, and for summarization ROUGE against the reference summaries plus the copying statistics.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rlhf/config/constraints.h"
#include "rlhf/core/runtime.h"
#include "rlhf/labelers/labeler.h"
#include "rlhf/eval/summary_metrics.h"
#include "rlhf/ppo/config.h"

namespace rlhf::eval {

struct EvaluateConfig {
  core::RuntimeConfig runtime;
  std::vector<std::string> policies;  // GPT-2 or policy directories (a policy checkpoint keeps its value head)
  std::vector<std::string> names;     // one per policy; empty = the directory names
  std::string reference;              // KL reference policy; empty = the first policy
  std::string reward_model;           // directory written by `rlhf train-reward`; empty = none
  bool use_labeler = false;           // also score with `labeler`
  labelers::LabelerOptions labeler;
  ppo::TaskOptions task;              // queries, response length, temperature, truncation
  int queries = 256;                  // the last ones of the dataset's shuffled order (what `rlhf train` holds out)
  int batch_size = 64;
  int samples_shown = 3;              // sample texts per policy in the output
  std::int64_t seed = -1;             // sampling seed, the same for every policy; -1 = runtime.seed
  SummaryMetricsOptions summary;
  std::string output;                 // JSON written here (atomically); empty = none

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Device, threads, seed, logging, precision");
    v.field("policies", policies, "Policy directories to evaluate (GPT-2 in Hugging Face layout, or a PPO policy)");
    v.field("names", names, "A display name per policy; empty = the directory names");
    v.field("reference", reference, "Reference policy for the KL; empty = the first policy");
    v.field("reward_model", reward_model, "Reward model directory (`rlhf train-reward`); empty = none");
    v.field("use_labeler", use_labeler, "Also score with the labeler below (a mock labeler)");
    v.section("labeler", labeler, "The mock labeler (use_labeler)");
    v.section("task", task, "Queries, response length, temperature and truncation");
    v.field("queries", queries, "Queries evaluated: the last ones of the dataset's shuffled order",
            config::Range::at_least(1));
    v.field("batch_size", batch_size, "Rows sampled together", config::Range::at_least(1));
    v.field("samples_shown", samples_shown, "Sample texts per policy in the output", config::Range::at_least(0));
    v.field("seed", seed, "Sampling seed, the same for every policy; -1 = runtime.seed", config::Range::at_least(-1));
    v.section("summary", summary, "Summarization metrics (ROUGE, lead-3, copying)");
    v.field("output", output, "JSON file with every number; empty = none");
  }
};

// Checks what can be checked before loading anything (policies given, names match, a scorer given).
// Throws rlhf::Error naming the key.
void check_evaluate_config(const EvaluateConfig& config);

// Evaluates every policy; returns {"queries", "judge", "policies": [{name, path, ...}], "lead3"?}.
nlohmann::ordered_json evaluate_policies(const EvaluateConfig& config, const core::Runtime& runtime);

// The result as an aligned text table, one row per policy (mean ± standard error).
std::string format_evaluation(const nlohmann::ordered_json& result);

}  // namespace rlhf::eval
