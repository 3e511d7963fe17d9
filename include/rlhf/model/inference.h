// Models used only for inference (the reference policy, sampling, scoring): on the runtime's device,
// in its precision, in eval mode.
#pragma once

#include <filesystem>

#include "rlhf/core/runtime.h"
#include "rlhf/model/gpt2.h"

namespace rlhf::model {

// Moves and casts a model for inference; fp16 on CPU is refused (LibTorch has no CPU half matmul).
void place_for_inference(Gpt2Impl& model, const core::Runtime& runtime);

// Loads a Hugging Face GPT-2 directory for inference.
Gpt2 load_inference_model(const std::filesystem::path& dir, const core::Runtime& runtime);

}  // namespace rlhf::model
