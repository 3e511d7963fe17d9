// A golden PPO batch: the trainer's one PPO batch on a fixed rollout, in float64, against numbers
// written down once by an independent implementation of the paper's spec.
//
// Where the numbers come from: scripts/make_ppo_golden.py implements the spec (paper-spec 4.1-4.4, 5:
// temperature-scaled log-probabilities, truncation and penalty, per-token KL penalty with the score on
// the last token, whitened rewards, GAE, whitened advantages, the clipped policy and value losses and
// TensorFlow's Adam) in PyTorch, on scripts/make_tiny_gpt2.py's own float64 GPT-2 forward; it shares
// no code with the C++ library. Its output is pasted below unchanged. Regenerate with
//   /usr/bin/python3 scripts/make_ppo_golden.py
// (Debian's Python: it has PyTorch) only when the fixture or the spec changes, never to match the C++.
//
// The fixture (the script's docstring has it too): tiny-gpt2 as the policy with a fixed value head,
// tiny-gpt2-bf16 (the same weights rounded to bf16) as the reference, 8 fixed queries (3 left-padded)
// and responses, a deterministic score, 2 epochs of one minibatch accumulated over 2 microbatches.
// The responses are sampled by the trainer and then replaced through the rollout hook, so sampling
// randomness does not enter; with one minibatch per epoch no permutation changes a number.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "rlhf/model/checkpoint.h"
#include "rlhf/ppo/rewards.h"
#include "rlhf/ppo/trainer.h"

namespace rlhf::ppo {
namespace {

namespace fs = std::filesystem;
const fs::path kData = fs::path(RLHF_TEST_DATA);
constexpr double kTolerance = 1e-10;
constexpr int kPad = 514;
constexpr std::int64_t kB = 8, kTc = 5, kN = 6;
const std::vector<std::int64_t> kContext = {17,   250,  33,   408, 91,  kPad, kPad, 120,  5,    77,  300, 2,   64, 199,
                                            13,   45,   46,   47,  48,  49,   kPad, 60,   61,   62,  63,  7,   8,  9,
                                            10,   11,   kPad, kPad, kPad, 400, 401,  222,  333,  444, 111, 13};
const std::vector<std::int64_t> kResponse = {40,  77,  301, 13,  88,  150, 13,  9,   220, 45,  300, 61,
                                             5,   200, 13,  13,  7,   400, 100, 101, 102, 103, 104, 105,
                                             13,  13,  13,  13,  13,  13,  1,   2,   3,   4,   5,   13,
                                             300, 13,  301, 302, 303, 304, 50,  51,  52,  53,  13,  54};
const std::vector<double> kBaseScore = {0.5, 1.5, -0.25, 2.0, 0.75, -1.25, 0.3, 1.0};

// Output of scripts/make_ppo_golden.py.
const std::vector<double> kScore = {0.90000000000000002, -1, 0.050000000000000044, -1, 1.05, -0.64999999999999991, -1, 1.5};
const std::vector<double> kKl = {-0.015514913717588286, 0.0050741497971795724, 0.0047576895209502368, -0.032188410062243378, 0.000151543845696267, 0.00045275649793730111, -0.0061278963657800389, -0.002303745016551062, 0.00052701210306338453, 0.00028198764578135638, -0.00015168749635208201, 0.0027701613091615229, 0.0059609162806903981, -0.019890699942891388, -0.028347615099363566, -0.018616081282193164, -0.007461026924829639, -0.0019398976047320104, 0.0056131691653025229, -0.003550691501425618, 0.010342446861383969, -0.0041504993307119875, -0.00096381377221810283, -0.021517783968916682, -0.013423926011707721, -0.019727614774732061, -0.014590596593979654, -0.016063957942943574, -0.007401012694581155, -0.0059596091027529496, 0.01201504326621361, -0.0047252091222684811, -0.020631773723273739, -0.0015900713434113811, 0.0026948811730278521, -0.0093151090170504602, -0.010533710163430854, -0.015748185929824743, 0.00227090217207504, 0.016059606570443918, -0.011098916404728598, 0.011977694534992978, -0.0023465382570106996, 0.015441343303626454, 0.00223151211950956, -0.013713092598113263, -0.0075517435249317089, 0.037145777317155293};
const std::vector<double> kRewards = {0.0046544741152764859, -0.0015222449391538717, -0.001427306856285071, 0.009656523018673013, -4.5463153708880098e-05, 0.89986417305061883, 0.0018383689097340116, 0.00069112350496531856, -0.00015810363091901534, -8.4596293734406916e-05, 4.5506248905624601e-05, -1.0008310483927485, -0.0017882748842071193, 0.0059672099828674162, 0.008504284529809069, 0.0055848243846579491, 0.0022383080774488915, 0.050581969281419649, -0.0016839507495907569, 0.0010652074504276853, -0.0031027340584151909, 0.0012451497992135962, 0.00028914413166543086, -0.99354466480932502, 0.0040271778035123164, 0.0059182844324196177, 0.0043771789781938963, 0.0048191873828830724, 0.0022203038083743465, 1.051787882730826, -0.0036045129798640829, 0.0014175627366805443, 0.0061895321169821212, 0.00047702140302341434, -0.0008084643519083556, -0.64720546729488482, 0.0031601130490292559, 0.0047244557789474229, -0.00068127065162251201, -0.0048178819711331752, 0.0033296749214185794, -1.003593308360498, 0.00070396147710320982, -0.0046324029910879356, -0.00066945363585286795, 0.004113927779433979, 0.0022655230574795127, 1.4888562668048535};
const std::vector<double> kAdvantages = {0.76295958697332678, 0.94442090370424081, 0.76579489333439443, 0.87195662332812418, 0.87553576879318373, 0.96868983694763577, -0.77208213438240414, -0.75557179498516269, -0.80568893975784084, -0.79574495418644853, -0.98796378641742943, -1.2193866826678756, 0.069387557124758178, 0.051697200691137486, -0.15162665143417225, 0.0065144141218059486, -0.021042175011504655, 0.14865581682928133, -0.84499117694943648, -0.83423663597886699, -1.0633761224312219, -1.0561061441735344, -1.2090739233799386, -1.2917418430053653, 0.9077781515481953, 0.91709886790991235, 1.0330731067680532, 1.0090375711602357, 1.1298982378928411, 1.1334507535779474, -0.66911711504058802, -0.69937758758189628, -0.67658030263240465, -0.71586293316839789, -1.0050157913885442, -0.63371507360420387, -0.53160807270207489, -0.6865599960898543, -0.72671937240296003, -1.1344977548702511, -1.141333809265392, -1.1835396311018993, 1.4714082817760508, 1.7747657485698727, 1.5496172386013116, 1.6676769525494406, 1.8452630390483746, 1.7078798533595454};
const std::vector<double> kReturns = {1.9220492835534035, 1.9922839366210956, 2.0589668165017678, 2.1367770175363683, 2.187024275969597, 2.2717075575936154, -1.9302739241033124, -2.0349564179320754, -2.1421123322768487, -2.2460623534860837, -2.3707785034739088, -2.5206010413163411, 0.27415883565097371, 0.26505432219482428, 0.21462575357448432, 0.1747324433889047, 0.13924962707940675, 0.13037402757421526, -1.8279865632193069, -1.9322106858190522, -2.0679002556942621, -2.1923026130486458, -2.3440456833873031, -2.5022295537112527, 2.2451866185890625, 2.3140775429938216, 2.3906176490689632, 2.4684699389174627, 2.5581482749808204, 2.6547596598269614, -1.1245612189684278, -1.2095036384648932, -1.3046675480670475, -1.4160692144393128, -1.5440271476277672, -1.628988912253956, -1.8957003923329765, -1.9963263943204508, -2.1051964921241502, -2.2440975519522555, -2.3733007206012675, -2.5275656519738132, 2.9420632995519842, 3.1111632398127709, 3.2696114380382744, 3.4307082783722982, 3.5987586327122605, 3.7567598919941418};
const std::vector<double> kPolicyLoss = {-1.3877787807814457e-17, -0.17377555197139963};
const std::vector<double> kValueLoss = {2.3459770117793792, 2.3575277003657802};
const std::vector<double> kPolicyClipfrac = {0, 0.89583333333333337};
const std::vector<double> kValueClipfrac = {0, 0.083333333333333329};
const std::vector<double> kApproxkl = {0, 0.47838993697547333};
const std::vector<double> kGradNorm = {4.3043991049148325, 0.44746583441097221};
const std::vector<double> kValueHeadAfter = {-0.12679230298499414, 0.05384461402895175, -0.049952845918002954, 0.12104994754683314, 0.022102151381179228, -0.07106130259608788, 0.10270408711998209, -0.001215905918315798, -0.096103084940799485, 0.071252811684912418, -0.028266526002547549, -0.12896220124628893, 0.053946261206857589, -0.046043992339560261, 0.12876290954902389, 0.02148390849424197, -0.078964150343229927, 0.096036331943303591, -0.0039350251976759303, -0.096011831803538686, 0.07896398782295487, -0.028971429201694706, -0.1283446579164001, 0.046087150808221379, -0.053918134272096366, 0.12853262571446766, 0.028073764265124035, -0.078943025715337595, 0.10374407542479107, -0.0032093206280464789, -0.096023522625907132, 0.071111534264507045, 0.12160009116243249};

at::Tensor tensor_of(const std::vector<std::int64_t>& values, std::int64_t rows) {
  return at::tensor(values, at::kLong).view({rows, -1});
}

// score = base_b + 0.1 * (tokens of the truncated response that are not pads); the trainer applies the
// penalty to responses without a truncate token.
class FixedScore : public RewardFunction {
 public:
  at::Tensor score(const at::Tensor&, const at::Tensor& response) override {
    const at::Tensor real = response.ne(kPad).to(at::kDouble).sum(1);  // [B]
    return at::tensor(kBaseScore, at::kDouble) + 0.1 * real;
  }
  std::string name() const override { return "fixed"; }
};

// Replaces the sampled responses by the fixed ones (everything the rollout derives from them
// recomputed as generate_rollout does) and records what the trainer computes from them.
class GoldenHooks : public PpoHooks {
 public:
  GoldenHooks(Policy policy, model::Gpt2 reference, TruncationOptions truncation, double temperature)
      : policy_(std::move(policy)), reference_(std::move(reference)), truncation_(truncation), T_(temperature) {}

  void rollout(std::int64_t, Rollout& r) override {
    at::NoGradGuard no_grad;
    const at::Tensor& ctx = r.queries.context;
    const at::Tensor& mask = r.queries.context_mask;
    r.response = tensor_of(kResponse, kB);  // [B, N]
    const ResponseAnalysis a = policy_->analyze(ctx, mask, r.response, T_);
    r.logprobs = a.logprobs;  // [B, N]
    r.values = a.values;      // [B, N]
    r.ref_logprobs = analyze_responses(*reference_, nullptr, ctx, mask, r.response, T_, false).logprobs;  // [B, N]
    r.processed = truncate_responses(r.response, truncation_);                                         // [B, N]
    r.raw_score = FixedScore().score(r.queries.query, r.processed);                                      // [B]
    r.score = apply_penalty(r.raw_score, r.processed, truncation_);                                      // [B]
    score = r.score.clone();
    kl = per_token_kl(r.logprobs, r.ref_logprobs);  // [B, N]
  }
  void rewards(std::int64_t, at::Tensor& r) override { reward_values = r.clone(); }
  void advantages(const MinibatchPoint& at, const at::Tensor& rows, const Gae& gae) override {
    // Back in batch order: row rows[i] of the batch is row i of the minibatch.
    at::Tensor adv = at::empty_like(gae.advantages), ret = at::empty_like(gae.returns);  // [B, N]
    adv.index_copy_(0, rows, gae.advantages);
    ret.index_copy_(0, rows, gae.returns);
    if (at.epoch == 0) {
      advantage_values = adv;
      return_values = ret;
    } else {
      // The same rows in another order: equal up to the order of the sums.
      EXPECT_TRUE(adv.allclose(advantage_values, 0, 1e-12) && ret.allclose(return_values, 0, 1e-12))
          << "epoch " << at.epoch;
    }
    minibatch_rows = rows.size(0);
    steps.emplace_back();
  }
  void losses(const MinibatchPoint&, std::int64_t, std::int64_t rows, PolicyLoss& policy, ValueLoss& value) override {
    const double w = static_cast<double>(rows) / static_cast<double>(minibatch_rows);
    Step& s = steps.back();
    s.policy_loss += w * policy.loss.item<double>();
    s.value_loss += w * value.loss.item<double>();
    s.policy_clipfrac += w * policy.clipfrac.item<double>();
    s.value_clipfrac += w * value.clipfrac.item<double>();
    s.approxkl += w * policy.approxkl.item<double>();
  }
  void gradient(const MinibatchPoint&, const std::vector<std::pair<std::string, at::Tensor>>& params) override {
    double sum = 0;
    for (const auto& item : params) {
      if (item.second.grad().defined()) sum += item.second.grad().pow(2).sum().item<double>();
    }
    steps.back().grad_norm = std::sqrt(sum);
  }

  struct Step {
    double policy_loss = 0, value_loss = 0, policy_clipfrac = 0, value_clipfrac = 0, approxkl = 0, grad_norm = 0;
  };
  at::Tensor score, kl, reward_values, advantage_values, return_values;
  std::int64_t minibatch_rows = 0;
  std::vector<Step> steps;

 private:
  Policy policy_;
  model::Gpt2 reference_;
  TruncationOptions truncation_;
  double T_;
};

void expect_near_all(const at::Tensor& got, const std::vector<double>& expected, const char* what) {
  ASSERT_TRUE(got.defined()) << what;
  ASSERT_EQ(got.scalar_type(), at::kDouble) << what;
  ASSERT_EQ(got.numel(), static_cast<std::int64_t>(expected.size())) << what;
  const at::Tensor flat = got.contiguous().view({-1});
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(flat[static_cast<std::int64_t>(i)].item<double>(), expected[i], kTolerance) << what << "[" << i << "]";
  }
}

double mean_of(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

TrainPolicyConfig golden_config() {
  TrainPolicyConfig c;
  c.runtime.device = "cpu";
  c.runtime.threads = 1;
  c.runtime.seed = 1;
  c.runtime.log_level = "warn";
  c.task.queries.pad_id = kPad;
  c.task.response_length = kN;
  c.task.temperature = 0.7;
  c.task.truncate_token = 13;
  c.task.truncate_after = 2;
  c.task.penalty_reward_value = -1;
  c.reward.kind = "token_count";  // checked by the configuration; the test's FixedScore replaces it
  c.reward.token = 0;
  c.kl.kl_coef = 0.3;
  c.kl.adaptive = false;
  c.ppo.lr = 0.002;
  c.ppo.batch_size = kB;
  c.ppo.total_episodes = kB;
  c.ppo.nminibatches = 1;
  c.ppo.noptepochs = 2;
  c.ppo.microbatch_size = 4;
  c.ppo.vf_coef = 0.1;
  c.ppo.cliprange = 0.2;
  c.ppo.cliprange_value = 0.2;
  c.ppo.gamma = 1.0;
  c.ppo.lam = 0.95;
  c.ppo.whiten_rewards = true;
  c.ppo.adam_tf_epsilon = true;
  c.sample_interval = 0;
  return c;
}

TEST(PpoGoldenTest, OneBatchMatchesTheIndependentReference) {
  const TrainPolicyConfig c = golden_config();
  const core::Runtime rt = core::init_runtime(c.runtime);
  PpoParts parts;
  parts.policy = load_policy(kData / "tiny-gpt2");
  parts.policy->to(at::kDouble);
  {
    at::NoGradGuard no_grad;
    const auto C = parts.policy->v_head->weight.size(1);
    for (std::int64_t j = 0; j < C; ++j) parts.policy->v_head->weight[0][j] = ((7 * j) % 11 - 5) / 40.0;
    parts.policy->v_head->bias.fill_(0.125);
  }
  parts.reference = model::load_gpt2(kData / "tiny-gpt2-bf16");
  parts.reference->to(at::kDouble);
  parts.reward = std::make_unique<FixedScore>();
  parts.queries = [](std::int64_t, std::int64_t, const at::Device&) {
    QueryBatch q;
    q.context = tensor_of(kContext, kB);  // [B, Tc]
    q.query = q.context;                  // the raw query is the context (no prefix or suffix)
    q.context_mask = q.context.ne(kPad);  // [B, Tc]
    return q;
  };
  TruncationOptions truncation{c.task.truncate_token, c.task.truncate_after, kPad, c.task.penalty_reward_value};
  auto hooks = std::make_shared<GoldenHooks>(parts.policy, parts.reference, truncation, c.task.temperature);
  parts.hooks = hooks;
  PpoTrainer trainer(c, rt, std::move(parts));
  const nlohmann::ordered_json m = trainer.train_batch();

  expect_near_all(hooks->score, kScore, "score");
  expect_near_all(hooks->kl, kKl, "kl");
  expect_near_all(hooks->reward_values, kRewards, "rewards");
  expect_near_all(hooks->advantage_values, kAdvantages, "whitened advantages");
  expect_near_all(hooks->return_values, kReturns, "returns");
  ASSERT_EQ(hooks->steps.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& s = hooks->steps[i];
    EXPECT_NEAR(s.policy_loss, kPolicyLoss[i], kTolerance) << "step " << i;
    EXPECT_NEAR(s.value_loss, kValueLoss[i], kTolerance) << "step " << i;
    EXPECT_NEAR(s.policy_clipfrac, kPolicyClipfrac[i], kTolerance) << "step " << i;
    EXPECT_NEAR(s.value_clipfrac, kValueClipfrac[i], kTolerance) << "step " << i;
    EXPECT_NEAR(s.approxkl, kApproxkl[i], kTolerance) << "step " << i;
    EXPECT_NEAR(s.grad_norm, kGradNorm[i], kTolerance) << "step " << i;
  }
  // Two Adam steps moved the value head to where the reference's did.
  Policy& policy = trainer.policy();
  expect_near_all(at::cat({policy->v_head->weight.detach().view({-1}), policy->v_head->bias.detach()}),
                  kValueHeadAfter, "value head after the batch");

  // The batch's metrics report the same numbers (averaged over the two steps).
  double kl_sum = 0;
  for (double x : kKl) kl_sum += x;
  EXPECT_NEAR(m["kl"].get<double>(), kl_sum / kB, kTolerance);
  EXPECT_NEAR(m["score_mean"].get<double>(), mean_of(kScore), kTolerance);
  EXPECT_NEAR(m["policy_loss"].get<double>(), mean_of(kPolicyLoss), kTolerance);
  EXPECT_NEAR(m["value_loss"].get<double>(), mean_of(kValueLoss), kTolerance);
  EXPECT_NEAR(m["policy_clipfrac"].get<double>(), mean_of(kPolicyClipfrac), kTolerance);
  EXPECT_NEAR(m["value_clipfrac"].get<double>(), mean_of(kValueClipfrac), kTolerance);
  EXPECT_NEAR(m["approxkl"].get<double>(), mean_of(kApproxkl), kTolerance);
  EXPECT_EQ(m["kl_coef"].get<double>(), 0.3);
}

}  // namespace
}  // namespace rlhf::ppo
