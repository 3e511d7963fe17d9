// rlhf mock-label: answers a question file with a mock labeler (lexicon, reward model or token count,
// with optional noise), writing a label file `rlhf train-reward` reads.
#include <cmath>
#include <nlohmann/json.hpp>

#include "common.h"
#include "rlhf/data/ceiling.h"
#include "rlhf/data/labels.h"
#include "rlhf/labelers/labeler.h"
#include "rlhf/labelers/questions.h"
#include "rlhf/reward/training.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"
#include "text_inputs.h"

namespace rlhf::cli {
namespace {

struct MockLabelConfig {
  core::RuntimeConfig runtime;
  labelers::LabelerOptions labeler;
  std::string tokenizer;         // directory with the tokenizer files; empty = labeler.model_dir (reward_model)
  std::string input;             // the questions (from sample-for-labels; `best` absent or ignored)
  data::LabelOptions questions;  // how the question file is read (format, pad id, limits)
  std::string output;            // the label file to write (OpenAI schema with best)
  bool write_text = true;        // also a readable rendering with the choices marked, next to the output (.txt)
  double validation_fraction = reward::RewardTrainingOptions{}.validation_fraction;  // for the ceilings per split

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Device, threads, seed (of the noise), logging, precision");
    v.section("labeler", labeler, "The mock labeler");
    v.field("tokenizer", tokenizer,
            "Directory with the tokenizer files (the policy's model directory); empty = labeler.model_dir");
    v.field("input", input, "Question file (OpenAI label schema, `best` absent or ignored; or JSON Lines texts)");
    v.section("questions", questions, "How the question file is read");
    v.field("output", output, "Label file to write (OpenAI label schema with best)");
    v.field("write_text", write_text, "Also write a readable rendering with the choices marked (.txt next to output)");
    v.field("validation_fraction", validation_fraction,
            "Report the accuracy ceiling of the train and validation parts that `rlhf train-reward` with this "
            "training.validation_fraction and the same --seed would hold out",
            config::Range::between(0.0, 0.9));
  }
};

struct MockLabelArgs {
  ConfigLayers layers;
};

void run_mock_label(MockLabelArgs& args) {
  const auto config = resolve_config<MockLabelConfig>(args.layers);
  const core::Runtime runtime = core::init_runtime(config.runtime);
  log_config(config);
  if (config.input.empty()) throw Error("input: no question file given (--in FILE)");
  if (config.output.empty() || config.output == "-") throw Error("output: give the label file to write (-o FILE)");
  std::string tokenizer_dir = config.tokenizer;
  if (tokenizer_dir.empty() && config.labeler.kind == "reward_model") tokenizer_dir = config.labeler.model_dir;
  if (tokenizer_dir.empty()) {
    throw Error("tokenizer: give the directory of the policy's tokenizer (--tokenizer DIR, e.g. the model directory)");
  }
  const std::shared_ptr<const tokenizer::Tokenizer> tokenizer = tokenizer::load_tokenizer(tokenizer_dir);
  data::LabelSet set = data::read_questions(config.input, *tokenizer, config.questions);
  const int pad_id = config.questions.pad_id;
  auto labeler = labelers::make_labeler_reward(config.labeler, runtime, pad_id, tokenizer);
  spdlog::info("labeling {} questions of {} samples with {} (noise {})", set.items.size(), set.num_samples,
               labeler->name(), config.labeler.noise);
  const at::Tensor scores =
      labelers::label_comparisons(set.items, *labeler, config.labeler.noise, runtime.seed, pad_id, runtime.device);

  // How often the answer is a top-scoring sample (1 without noise), and the chosen samples' mean score.
  std::vector<std::int64_t> best;
  for (const auto& item : set.items) best.push_back(item.best);
  const at::Tensor picked = scores.gather(1, at::tensor(best, at::kLong).view({-1, 1})).squeeze(1);  // [B]
  const at::Tensor top = std::get<0>(scores.max(1));                                                 // [B]
  labelers::write_questions(config.output, set.items, /*with_best=*/true);
  if (config.write_text) {
    labelers::write_questions_text(labelers::text_rendering_path(config.output), set.items, *tokenizer, pad_id);
  }
  save_config_next_to(config.output, config);
  const auto ceiling_json = [](const std::vector<data::Comparison>& items) {
    const data::AccuracyCeiling c = data::accuracy_ceiling(items);
    return nlohmann::ordered_json{{"questions", c.questions}, {"tied_share", *c.tied_share()}, {"ceiling", *c.ceiling}};
  };
  // The parts `rlhf train-reward --seed S` would train on and hold out (too few questions: all in train).
  const bool can_split = std::llround(config.validation_fraction * static_cast<double>(set.items.size())) <
                         static_cast<long long>(set.items.size());
  const auto [train, validation] =
      can_split ? data::split_labels(set.items, config.validation_fraction, static_cast<std::uint64_t>(runtime.seed))
                : std::make_pair(set.items, std::vector<data::Comparison>{});
  const data::AccuracyCeiling all = data::accuracy_ceiling(set.items);
  spdlog::info(
      "the labeler's top score is tied in {:.1f}% of the questions; a perfect reward model would be right "
      "on {:.3f} of them (chance {:.3f})",
      100.0 * *all.tied_share(), *all.ceiling, all.chance);
  const nlohmann::ordered_json summary = {
      {"labeled", set.items.size()},
      {"num_samples", set.num_samples},
      {"labeler", labeler->name()},
      {"noise", config.labeler.noise},
      {"best_is_top_score", picked.eq(top).to(at::kDouble).mean().item<double>()},
      {"mean_best_score", picked.mean().item<double>()},
      {"mean_score", scores.mean().item<double>()},
      {"chance", all.chance},
      {"tied_share", *all.tied_share()},
      {"ceiling", *all.ceiling},
      {"split",
       {{"validation_fraction", config.validation_fraction},
        {"seed", runtime.seed},
        {"train", ceiling_json(train)},
        {"validation", validation.empty() ? nlohmann::ordered_json() : ceiling_json(validation)}}},
      {"output", config.output},
  };
  write_output("", summary.dump(2) + "\n");
}

}  // namespace

void register_mock_label(CLI::App& app) {
  register_config_doc<MockLabelConfig>("mock-label");
  auto args = std::make_shared<MockLabelArgs>();
  CLI::App* cmd = app.add_subcommand("mock-label",
                                     "Label a question file with a mock labeler (lexicon, reward model, token count)");
  add_config_options(*cmd, args->layers);
  add_runtime_flags(*cmd, args->layers);
  add_key_flag(*cmd, "--labeler", "labeler.kind", args->layers, "lexicon, reward_model or token_count");
  add_key_flag(*cmd, "--lexicon", "labeler.lexicon", args->layers, "Lexicon file (kind lexicon)");
  add_key_flag(*cmd, "--reward-model", "labeler.model_dir", args->layers, "Reward-model directory (kind reward_model)");
  add_key_flag(*cmd, "--token", "labeler.token", args->layers, "Counted token id (kind token_count)");
  add_key_flag(*cmd, "--noise", "labeler.noise", args->layers, "Probability of a uniformly random answer");
  add_key_flag(*cmd, "--tokenizer,--model", "tokenizer", args->layers, "Directory with the tokenizer files");
  add_key_flag(*cmd, "--in,-i", "input", args->layers, "Question file");
  add_key_flag(*cmd, "--output,-o", "output", args->layers, "Label file to write");
  cmd->callback([args] { run_mock_label(*args); });
}

}  // namespace rlhf::cli
