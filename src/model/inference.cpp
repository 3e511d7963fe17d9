#include "rlhf/model/inference.h"

#include "rlhf/model/checkpoint.h"
#include "rlhf/util/error.h"

namespace rlhf::model {

void place_for_inference(Gpt2Impl& model, const core::Runtime& runtime) {
  const at::ScalarType dtype = core::precision_dtype(runtime.precision);
  if (dtype == at::kHalf && runtime.device.is_cpu()) {
    throw Error("precision: fp16 is not supported on the CPU (use fp32 or bf16)");
  }
  model.to(runtime.device, dtype);
  model.eval();
}

Gpt2 load_inference_model(const std::filesystem::path& dir, const core::Runtime& runtime) {
  Gpt2 model = load_gpt2(dir);
  place_for_inference(*model, runtime);
  return model;
}

}  // namespace rlhf::model
