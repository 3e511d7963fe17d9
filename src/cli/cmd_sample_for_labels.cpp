// rlhf sample-for-labels: questions for labelers (a query and N samples of a policy, with the paper's
// rejection sampling), written in OpenAI's label schema without `best`, plus a readable text file.
#include <nlohmann/json.hpp>

#include "common.h"
#include "rlhf/data/ceiling.h"
#include "rlhf/data/queries.h"
#include "rlhf/labelers/labeler.h"
#include "rlhf/labelers/questions.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "text_inputs.h"

namespace rlhf::cli {
namespace {

struct SampleForLabelsConfig {
  core::RuntimeConfig runtime;
  std::string model;                    // the policy the samples come from
  data::QueryOptions queries;           // the query dataset (as in train-policy's task.queries)
  labelers::QuestionOptions questions;  // samples per question, length, temperature, rejection rule
  std::int64_t num_questions = 0;       // questions to write
  std::int64_t query_start = 0;         // first position in the dataset's (shuffled, endless) query order
  std::string output;                   // questions file (JSON); the text rendering goes next to it (.txt)
  bool preview = false;                 // score the questions with `labeler` and report the accuracy ceiling
  labelers::LabelerOptions labeler;     // the mock labeler of the preview

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Device, threads, seed, logging, precision");
    v.field("model", model, "Policy directory the samples are drawn from");
    v.section("queries", queries, "Query dataset (the same options as train-policy's task.queries)");
    v.section("questions", questions, "Samples per question and the rejection-sampling rule");
    v.field("num_questions", num_questions, "Questions to write", config::Range::at_least(0));
    v.field("query_start", query_start,
            "First position in the dataset's query order (shuffled, repeating); questions use the next "
            "num_questions positions",
            config::Range::at_least(0));
    v.field("output", output,
            "Questions file (OpenAI label schema without best); a .txt rendering is written next to it");
    v.field("preview", preview,
            "Also score the questions with the mock labeler `labeler` (nothing of it is written) and report how "
            "often its top score is tied and the accuracy ceiling its labels would leave");
    v.section("labeler", labeler, "The mock labeler of the preview");
  }
};

struct SampleForLabelsArgs {
  ConfigLayers layers;
};

// Dataset indices at positions [start, start + count) of its endless order.
std::vector<std::size_t> query_indices(const data::QueryDataset& dataset, std::size_t start, std::size_t count) {
  std::vector<std::size_t> indices;
  std::vector<std::size_t> order;
  std::size_t epoch = static_cast<std::size_t>(-1);
  for (std::size_t p = start; p < start + count; ++p) {
    if (p / dataset.size() != epoch) {
      epoch = p / dataset.size();
      order = dataset.epoch_order(epoch);
    }
    indices.push_back(order[p % dataset.size()]);
  }
  return indices;
}

// How much signal the labels of a mock labeler would carry: the share of questions with a tied top
// score and the accuracy ceiling (data/ceiling.h), on a copy of the questions.
nlohmann::ordered_json preview_ceiling(const SampleForLabelsConfig& config, const core::Runtime& runtime,
                                       const std::shared_ptr<const tokenizer::Tokenizer>& tokenizer,
                                       std::vector<data::Comparison> items) {
  const int pad_id = config.queries.pad_id;
  auto labeler = labelers::make_labeler_reward(config.labeler, runtime, pad_id, tokenizer);
  labelers::label_comparisons(items, *labeler, config.labeler.noise, runtime.seed, pad_id, runtime.device);
  const data::AccuracyCeiling c = data::accuracy_ceiling(items);
  spdlog::info(
      "preview with {}: its top score is tied in {:.1f}% of the questions; a perfect reward model would be "
      "right on {:.3f} of them (chance {:.3f})",
      labeler->name(), 100.0 * *c.tied_share(), *c.ceiling, c.chance);
  return {{"labeler", labeler->name()},
          {"noise", config.labeler.noise},
          {"chance", c.chance},
          {"tied_share", *c.tied_share()},
          {"ceiling", *c.ceiling}};
}

void run_sample_for_labels(SampleForLabelsArgs& args) {
  const auto config = resolve_config<SampleForLabelsConfig>(args.layers);
  const core::Runtime runtime = core::init_runtime(config.runtime);
  log_config(config);
  if (config.model.empty()) throw Error("model: no policy directory given (--model DIR)");
  if (config.queries.path.empty()) throw Error("queries.path: no query file given (--queries FILE)");
  if (config.num_questions < 1) throw Error("num_questions: give how many questions to write (-n N)");
  if (config.output.empty() || config.output == "-") throw Error("output: give the questions file (-o FILE.json)");

  const std::shared_ptr<const tokenizer::Tokenizer> tokenizer = tokenizer::load_tokenizer(config.model);
  const data::QueryDataset dataset = data::QueryDataset::load(config.queries, *tokenizer);
  std::vector<std::vector<int>> contexts, raw_queries;
  for (std::size_t i : query_indices(dataset, static_cast<std::size_t>(config.query_start),
                                     static_cast<std::size_t>(config.num_questions))) {
    contexts.push_back(dataset.context(i));
    raw_queries.push_back(dataset[i].tokens);
  }
  model::Gpt2 policy = load_inference_model(config.model, runtime);
  const int pad_id = config.queries.pad_id;
  labelers::QuestionStats stats;
  const auto items =
      labelers::sample_questions(*policy, contexts, raw_queries, config.questions, pad_id, runtime.seed, &stats);
  if (stats.gave_up > 0) {
    spdlog::warn("{} of {} samples had no truncate token {} at index >= {} after {} draws; kept as drawn",
                 stats.gave_up, stats.samples, config.questions.truncate_token, config.questions.truncate_after,
                 config.questions.max_attempts);
  }
  const std::filesystem::path text = labelers::text_rendering_path(config.output);
  labelers::write_questions(config.output, items, /*with_best=*/false);
  labelers::write_questions_text(text, items, *tokenizer, pad_id);
  save_config_next_to(config.output, config);
  nlohmann::ordered_json summary = {{"questions", stats.questions}, {"samples", stats.samples},
                                    {"draws", stats.draws},         {"gave_up", stats.gave_up},
                                    {"output", config.output},      {"text", text.string()}};
  if (config.preview) summary["preview"] = preview_ceiling(config, runtime, tokenizer, items);
  write_output("", summary.dump(2) + "\n");
}

}  // namespace

void register_sample_for_labels(CLI::App& app) {
  register_config_doc<SampleForLabelsConfig>("sample-for-labels");
  auto args = std::make_shared<SampleForLabelsArgs>();
  CLI::App* cmd =
      app.add_subcommand("sample-for-labels",
                         "Questions for labelers: a query and N policy samples each (rejection-sampled), JSON + text");
  add_config_options(*cmd, args->layers);
  add_runtime_flags(*cmd, args->layers);
  add_key_flag(*cmd, "--model", "model", args->layers, "Policy directory");
  add_key_flag(*cmd, "--queries", "queries.path", args->layers, "Query file");
  add_key_flag(*cmd, "-n,--num-questions", "num_questions", args->layers, "Questions to write");
  add_key_flag(*cmd, "--num-samples", "questions.num_samples", args->layers, "Samples per question");
  add_key_flag(*cmd, "--temperature", "questions.temperature", args->layers, "Sampling temperature");
  add_key_flag(*cmd, "--output,-o", "output", args->layers, "Questions file (a .txt rendering goes next to it)");
  add_bool_flag(*cmd, "--preview", "preview", args->layers,
                "Report the accuracy ceiling a mock labeler's labels would leave (--labeler, --lexicon)");
  add_key_flag(*cmd, "--labeler", "labeler.kind", args->layers,
               "Preview labeler: lexicon, reward_model or token_count");
  add_key_flag(*cmd, "--lexicon", "labeler.lexicon", args->layers, "Lexicon file of the preview labeler");
  cmd->callback([args] { run_sample_for_labels(*args); });
}

}  // namespace rlhf::cli
