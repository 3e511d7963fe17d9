// `rlhf eval --run RUN_DIR`: the evaluation settings of a `rlhf train` run directory, so its policies
// can be measured again (or on other queries, or beside other policies) exactly as the run did.
#pragma once

#include <filesystem>

#include "rlhf/eval/evaluate.h"

namespace rlhf::pipeline {

// From RUN_DIR/config.json: the task and evaluation queries, the run's runtime and evaluation seed,
// the pretrained model as reference, the last reward model (when PPO used one), the mock labeler
// (when the labels came from one), and as policies the initial ("initial") and the final ("final")
// policy. With the defaults kept, the numbers equal the run's eval/initial.json and eval/final.json.
// Throws rlhf::Error naming the directory when it holds no `rlhf train` configuration.
eval::EvaluateConfig evaluate_config_from_run(const std::filesystem::path& run_dir);

}  // namespace rlhf::pipeline
