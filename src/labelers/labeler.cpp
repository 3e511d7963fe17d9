#include "rlhf/labelers/labeler.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "rlhf/model/batching.h"
#include "rlhf/util/error.h"

namespace rlhf::labelers {
namespace {

constexpr std::int64_t kLabelChunk = 256;  // (query, sample) rows scored per call of the labeler

// A uniform double in [0, 1) from the top 53 bits, the same on every platform (std's distributions
// are not specified bit for bit).
double unit_double(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

}  // namespace

void LabelerOptions::check() const {
  if (kind == "lexicon" && lexicon.empty()) {
    throw Error(
        "lexicon: labeler kind is \"lexicon\" but no lexicon file is given (e.g. configs/sentiment-lexicon.json)");
  }
  if (kind == "reward_model" && model_dir.empty()) {
    throw Error("model_dir: labeler kind is \"reward_model\" but no reward model directory is given");
  }
  if (kind == "token_count" && token < 0) {
    throw Error("token: labeler kind is \"token_count\" but no token id is given");
  }
}

LexiconReward::LexiconReward(Lexicon lexicon, std::string source, std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                             int pad_id)
    : lexicon_(std::move(lexicon)), source_(std::move(source)), tokenizer_(std::move(tokenizer)), pad_id_(pad_id) {
  if (!tokenizer_) throw Error("the lexicon labeler needs a tokenizer to decode the responses");
}

at::Tensor LexiconReward::score(const at::Tensor& query, const at::Tensor& response) {
  TORCH_CHECK(response.dim() == 2, "LexiconReward: response must be [B, Tr]");
  const at::Tensor ids = response.to(at::kCPU, at::kLong).contiguous();
  const auto B = ids.size(0), T = ids.size(1);
  const auto a = ids.accessor<std::int64_t, 2>();
  std::vector<float> scores(static_cast<std::size_t>(B));
  std::vector<int> real;
  for (std::int64_t b = 0; b < B; ++b) {
    real.clear();
    for (std::int64_t t = 0; t < T; ++t) {
      if (a[b][t] != pad_id_) real.push_back(static_cast<int>(a[b][t]));
    }
    try {
      scores[static_cast<std::size_t>(b)] = static_cast<float>(lexicon_.score(tokenizer_->decode(real)));
    } catch (const Error& e) {
      throw Error("lexicon labeler: response row " + std::to_string(b) + ": " + e.what());
    }
  }
  return at::tensor(scores, at::kFloat).to(query.device());
}

std::unique_ptr<ppo::RewardFunction> make_labeler_reward(const LabelerOptions& options, const core::Runtime& runtime,
                                                         int pad_id,
                                                         std::shared_ptr<const tokenizer::Tokenizer> tokenizer) {
  options.check();
  if (options.kind == "person") {
    throw Error("kind: a person answers questions (rlhf label) but cannot score responses as a reward; use "
                "lexicon, reward_model or token_count here");
  }
  if (options.kind == "token_count") return std::make_unique<ppo::TokenCountReward>(options.token);
  if (options.kind == "reward_model") return ppo::load_reward_model_function(options.model_dir, runtime, pad_id);
  if (options.kind == "lexicon") {
    if (!tokenizer) throw Error("lexicon: the lexicon labeler needs the policy's tokenizer to decode responses");
    return std::make_unique<LexiconReward>(Lexicon::load(options.lexicon), options.lexicon, std::move(tokenizer),
                                           pad_id);
  }
  throw Error("kind: unknown labeler \"" + options.kind + "\" (lexicon, reward_model or token_count)");
}

std::vector<int> choose_best(const at::Tensor& scores, double noise, std::uint64_t seed) {
  TORCH_CHECK(scores.dim() == 2 && scores.size(1) >= 1, "choose_best: scores must be [B, N] with N >= 1");
  if (!(noise >= 0.0 && noise <= 1.0)) throw Error("noise: must be in [0, 1], got " + std::to_string(noise));
  const at::Tensor s = scores.to(at::kCPU, at::kDouble).contiguous();
  const auto a = s.accessor<double, 2>();
  const auto B = s.size(0), N = s.size(1);
  std::mt19937_64 rng(seed);
  std::vector<int> best(static_cast<std::size_t>(B));
  for (std::int64_t b = 0; b < B; ++b) {
    double top = a[b][0];
    for (std::int64_t n = 0; n < N; ++n) {
      if (std::isnan(a[b][n])) {
        throw Error("labeler score of item " + std::to_string(b) + ", sample " + std::to_string(n) + " is NaN");
      }
      top = std::max(top, a[b][n]);
    }
    std::vector<int> tied;  // every index with the top score
    for (std::int64_t n = 0; n < N; ++n) {
      if (a[b][n] == top) tied.push_back(static_cast<int>(n));
    }
    // Always three draws per row, so the rows' random numbers depend neither on `noise` nor on ties.
    const double u = unit_double(rng);
    const int random_index = static_cast<int>(unit_double(rng) * static_cast<double>(N));
    // A person shown equally good samples picks any of them: a tie is broken uniformly, never by
    // position (which would teach the reward model nothing and bias `best` towards sample 0).
    const int tie_pick = tied[static_cast<std::size_t>(unit_double(rng) * static_cast<double>(tied.size()))];
    best[static_cast<std::size_t>(b)] = u < noise ? random_index : tie_pick;
  }
  return best;
}

at::Tensor label_comparisons(std::vector<data::Comparison>& items, ppo::RewardFunction& labeler, double noise,
                             std::uint64_t seed, int pad_id, const at::Device& device) {
  if (items.empty()) throw Error("label_comparisons: no questions to label");
  const std::size_t N = items.front().samples.size();
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].samples.size() != N || N < 2) {
      throw Error("question " + std::to_string(i) + " has " + std::to_string(items[i].samples.size()) +
                  " samples; every question needs the same number (" + std::to_string(N) + "), at least 2");
    }
  }
  // Row r = (item r / N, sample r % N).
  const auto rows = static_cast<std::int64_t>(items.size() * N);
  std::vector<at::Tensor> parts;
  for (std::int64_t start = 0; start < rows; start += kLabelChunk) {
    const std::int64_t end = std::min(rows, start + kLabelChunk);
    std::vector<std::vector<int>> queries, samples;
    for (std::int64_t r = start; r < end; ++r) {
      const data::Comparison& c = items[static_cast<std::size_t>(r) / N];
      queries.push_back(c.query);
      samples.push_back(c.samples[static_cast<std::size_t>(r) % N]);
    }
    at::NoGradGuard no_grad;
    const at::Tensor s = labeler.score(model::pad_right(queries, pad_id).ids.to(device),
                                       model::pad_right(samples, pad_id).ids.to(device));
    TORCH_CHECK(s.dim() == 1 && s.size(0) == end - start, "label_comparisons: the labeler returned a wrong shape");
    parts.push_back(s.to(at::kCPU, at::kFloat));
  }
  const at::Tensor scores =
      at::cat(parts).view({static_cast<std::int64_t>(items.size()), static_cast<std::int64_t>(N)});
  const std::vector<int> best = choose_best(scores, noise, seed);
  const at::Tensor exact = scores.to(at::kDouble).contiguous();  // the values choose_best compared
  const auto a = exact.accessor<double, 2>();
  for (std::size_t i = 0; i < items.size(); ++i) {
    items[i].best = best[i];
    const auto row = a[static_cast<std::int64_t>(i)];
    items[i].labeler_scores.assign(N, 0.0);
    for (std::size_t n = 0; n < N; ++n) items[i].labeler_scores[n] = row[static_cast<std::int64_t>(n)];
    items[i].labeler_noise = noise;
  }
  return scores;
}

}  // namespace rlhf::labelers
