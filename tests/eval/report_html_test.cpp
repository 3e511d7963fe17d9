// `rlhf report`'s reading of run directories (finished, batched, partial, other commands' outputs,
// broken) and the page it renders from them.
#include "rlhf/eval/report_html.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>

#include "eval/report_run_fixture.h"
#include "rlhf/util/error.h"

namespace rlhf::eval {
namespace {

using ::testing::AllOf;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::SyntheticRun;
namespace fs = std::filesystem;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

class ReportHtml : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("rlhf_report_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  // What `message` of the Error thrown by load_run(d) is.
  std::string load_error(const fs::path& d) {
    try {
      load_run(d);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  }

  fs::path dir;
};

TEST_F(ReportHtml, FinishedTrainRunIsReadCompletely) {
  testing::write_train_run(dir / "run", SyntheticRun{});
  const RunReport r = load_run(dir / "run");
  EXPECT_EQ(r.kind, "train");
  EXPECT_TRUE(r.missing.empty()) << joined(r.missing);
  // PPO: 4 batches of 8 episodes, score 0.5 k, stderr 2 / sqrt(8).
  EXPECT_THAT(r.ppo.episodes, ElementsAre(8, 16, 24, 32));
  EXPECT_THAT(r.ppo.score, ElementsAre(0, 0.5, 1.0, 1.5));
  EXPECT_DOUBLE_EQ(r.ppo.score_stderr[0], 2 / std::sqrt(8.0));
  EXPECT_THAT(r.ppo.kl_coef, ElementsAre(DoubleNear(0.1, 1e-12), DoubleNear(0.11, 1e-12), DoubleNear(0.12, 1e-12),
                                         DoubleNear(0.13, 1e-12)));
  EXPECT_EQ(r.ppo.total_batches, 4);
  // The reward model: 10 steps (normalisation records are not steps), one held-out measurement.
  ASSERT_EQ(r.reward_models.size(), 1u);
  EXPECT_EQ(r.reward_models[0].name, "reward model");
  EXPECT_EQ(r.reward_models[0].step.size(), 10u);
  EXPECT_DOUBLE_EQ(r.reward_models[0].accuracy[9], 0.75);
  EXPECT_THAT(r.reward_models[0].validation_accuracy, ElementsAre(0.6));
  EXPECT_EQ(r.reward_models[0].num_samples, 4);
  EXPECT_DOUBLE_EQ(r.final["kl"]["mean"].get<double>(), 2.0);
  EXPECT_TRUE(r.rounds.empty());
}

TEST_F(ReportHtml, BatchedRunHasARewardModelAndAnEvaluationPerRound) {
  SyntheticRun s;
  s.rounds = 3;
  s.total_batches = s.batches_done = 6;
  testing::write_train_run(dir / "run", s);
  const RunReport r = load_run(dir / "run");
  EXPECT_TRUE(r.missing.empty()) << joined(r.missing);
  EXPECT_EQ(r.planned_rounds, 3);
  ASSERT_EQ(r.reward_models.size(), 3u);
  EXPECT_EQ(r.reward_models[2].name, "round 2");
  EXPECT_EQ(r.reward_models[2].step.size(), 20u);
  ASSERT_EQ(r.rounds.size(), 3u);
  const std::string page = render_report({r}, ReportOptions{});
  // Rounds end after batches 2, 4, 6 of 8 episodes.
  EXPECT_THAT(page, HasSubstr("<td>16</td>"));
  EXPECT_THAT(page, HasSubstr("<td>48</td>"));
  EXPECT_THAT(page, HasSubstr("batched collection, per round"));
  EXPECT_THAT(page, HasSubstr("<td>round 1</td>"));  // a frontier point between the initial and the final policy
}

TEST_F(ReportHtml, RunStillInPpoShowsWhatExistsAndSaysWhatIsMissing) {
  SyntheticRun s;
  s.batches_done = 2;
  s.eval = false;
  testing::write_train_run(dir / "run", s);
  const RunReport r = load_run(dir / "run");
  EXPECT_EQ(r.ppo.episodes.size(), 2u);
  const std::string missing = joined(r.missing);
  EXPECT_THAT(missing, HasSubstr("PPO: 2 of 4 batches done"));
  EXPECT_THAT(missing, HasSubstr("eval/final.json"));
  EXPECT_THAT(missing, HasSubstr("summary.json"));
  const std::string page = render_report({r}, ReportOptions{});
  EXPECT_THAT(page, HasSubstr("id=\"ppo-score\""));
  EXPECT_THAT(page, HasSubstr("PPO: 2 of 4 batches done"));
  EXPECT_THAT(page, HasSubstr("<b>partial</b>"));
  EXPECT_THAT(page, Not(HasSubstr("id=\"frontier\"")));  // nothing evaluated: no frontier
  EXPECT_THAT(page, HasSubstr("PPO samples (no evaluation yet)"));
}

TEST_F(ReportHtml, RunBeforePpoHasOnlyItsRewardModel) {
  SyntheticRun s;
  s.batches_done = 0;
  s.eval = false;
  testing::write_train_run(dir / "run", s);
  fs::remove(dir / "run" / "policy" / "metrics.jsonl");
  const RunReport r = load_run(dir / "run");
  EXPECT_THAT(joined(r.missing), HasSubstr("policy/metrics.jsonl: no PPO batch yet"));
  const std::string page = render_report({r}, ReportOptions{});
  EXPECT_THAT(page, Not(HasSubstr("id=\"ppo-score\"")));
  EXPECT_THAT(page, HasSubstr("id=\"rm-accuracy\""));
}

TEST_F(ReportHtml, MissingRoundRewardModelIsNamed) {
  SyntheticRun s;
  s.rounds = 2;
  s.eval = false;
  testing::write_train_run(dir / "run", s);
  fs::remove_all(dir / "run" / "reward_model_round_1");
  const RunReport r = load_run(dir / "run");
  EXPECT_EQ(r.reward_models.size(), 1u);
  EXPECT_THAT(joined(r.missing), HasSubstr("reward_model_round_1/: round 1 not trained yet"));
  EXPECT_THAT(joined(r.missing), HasSubstr("eval/round_0.json"));
}

TEST_F(ReportHtml, LastLineCutByAKillIsDroppedButABadLineBeforeItIsAnError) {
  SyntheticRun s;
  testing::write_train_run(dir / "run", s);
  testing::write_ppo_metrics(dir / "run" / "policy" / "metrics.jsonl", s, "{\"batch\":4,\"episo");
  EXPECT_EQ(load_run(dir / "run").ppo.episodes.size(), 4u);
  testing::write_ppo_metrics(dir / "run" / "policy" / "metrics.jsonl", s, "{oops\n{\"batch\":5}\n");
  EXPECT_THAT(load_error(dir / "run"), AllOf(HasSubstr("metrics.jsonl:5:"), HasSubstr("not a JSON object")));
}

TEST_F(ReportHtml, OutputsOfTrainPolicyAndTrainReward) {
  testing::write_train_policy_run(dir / "ppo", SyntheticRun{});
  const RunReport p = load_run(dir / "ppo");
  EXPECT_EQ(p.kind, "train-policy");
  EXPECT_EQ(p.ppo.episodes.size(), 4u);
  EXPECT_THAT(joined(p.missing), HasSubstr("does not evaluate"));
  testing::write_train_reward_run(dir / "rm");
  const RunReport r = load_run(dir / "rm");
  EXPECT_EQ(r.kind, "train-reward");
  ASSERT_EQ(r.reward_models.size(), 1u);
  EXPECT_EQ(r.reward_models[0].step.size(), 12u);
  EXPECT_TRUE(r.missing.empty()) << joined(r.missing);
  std::vector<RunReport> runs = {p, r};
  name_runs(runs);
  const std::string page = render_report(runs, ReportOptions{});
  EXPECT_THAT(page, AllOf(HasSubstr("id=\"ppo-score\""), HasSubstr("id=\"rm-accuracy\""),
                          HasSubstr("<code>rlhf train-policy</code>"), HasSubstr("<code>rlhf train-reward</code>")));
}

TEST_F(ReportHtml, ADirectoryThatIsNotARunIsAnErrorNamingIt) {
  fs::create_directories(dir / "model");
  write_file_atomic(dir / "model" / "config.json", R"({"n_layer": 2, "n_embd": 8})");
  EXPECT_THAT(load_error(dir / "model"), AllOf(HasSubstr((dir / "model").string()), HasSubstr("not a run directory"),
                                               HasSubstr("rlhf train"), HasSubstr("reward_model.json")));
  EXPECT_THAT(load_error(dir / "absent"), AllOf(HasSubstr((dir / "absent").string()), HasSubstr("no such directory")));
  testing::write_train_run(dir / "run", SyntheticRun{});
  write_file_atomic(dir / "run" / "eval" / "final.json", "{ not json");
  EXPECT_THAT(load_error(dir / "run"), AllOf(HasSubstr("final.json"), HasSubstr("not valid JSON")));
}

TEST_F(ReportHtml, PageHasEveryChartTheTablesAndEscapedSamples) {
  SyntheticRun rounds;
  rounds.rounds = 2;
  testing::write_train_run(dir / "runs" / "a" / "train", SyntheticRun{});
  testing::write_train_run(dir / "runs" / "b", rounds);
  std::vector<RunReport> runs = {load_run(dir / "runs" / "a" / "train"), load_run(dir / "runs" / "b")};
  name_runs(runs);
  EXPECT_EQ(runs[0].name, "a/train");
  EXPECT_EQ(runs[1].name, "b");
  ReportOptions options;
  options.title = "Sentiment <runs>";
  const std::string page = render_report(runs, options);
  for (const char* id : {"ppo-score", "ppo-kl", "ppo-beta", "ppo-labeler", "rm-accuracy", "rm-loss", "frontier"}) {
    EXPECT_THAT(page, HasSubstr("id=\"" + std::string(id) + "-clip\"")) << id;
  }
  EXPECT_EQ(count(page, "<svg "), 7u);
  EXPECT_THAT(page, HasSubstr("<h1>Sentiment &lt;runs&gt;</h1>"));
  EXPECT_THAT(page, HasSubstr("target KL 3.00"));  // both runs share the target: one line
  EXPECT_THAT(page, HasSubstr("chance (1/4)"));
  // Before/after: labeler 0.02 -> 0.27 (shift 1 adds 1/4), with standard errors.
  EXPECT_THAT(page, HasSubstr("0.020 <span class=\"pm\">± 0.030</span>"));
  EXPECT_THAT(page, HasSubstr("0.270 <span class=\"pm\">± 0.030</span>"));
  EXPECT_THAT(page, HasSubstr("+0.250"));
  // The sample texts, escaped; no script survives.
  EXPECT_THAT(page, HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"));
  EXPECT_THAT(page, Not(HasSubstr("<script")));
  EXPECT_THAT(page, HasSubstr("a kinder reply."));
  // Self-contained: nothing is fetched, nothing runs.
  EXPECT_THAT(
      page, AllOf(Not(HasSubstr("src=")), Not(HasSubstr("<link")), Not(HasSubstr("href=")), Not(HasSubstr("@import"))));
}

TEST_F(ReportHtml, RewardModelAccuracyChartHasTheCeilingLine) {
  // Two train-reward runs: one on mock labels with the ceilings recorded, one on labels from people.
  testing::write_train_reward_run(dir / "mock");
  testing::write_train_reward_run(dir / "people");
  nlohmann::ordered_json rm = nlohmann::ordered_json::parse(read_text_file(dir / "mock" / "reward_model.json"));
  rm["training"]["chance"] = 0.25;
  rm["training"]["train_ceiling"] = 0.8;
  rm["training"]["validation_ceiling"] = 0.78;
  rm["training"]["validation_gain_share"] = (0.6 - 0.25) / (0.78 - 0.25);
  write_file_atomic(dir / "mock" / "reward_model.json", rm.dump(2));
  std::vector<RunReport> runs = {load_run(dir / "mock"), load_run(dir / "people")};
  name_runs(runs);
  const std::string page = render_report(runs, ReportOptions{});
  // The accuracy chart: its SVG holds the labelled ceiling line of the mock run only, and chance.
  const auto chart_start = page.find("id=\"rm-accuracy-clip\"");
  ASSERT_NE(chart_start, std::string::npos);
  const std::string chart = page.substr(chart_start, page.find("</svg>", chart_start) - chart_start);
  EXPECT_THAT(chart, HasSubstr("mock ceiling 0.78"));
  EXPECT_THAT(chart, Not(HasSubstr("people ceiling")));
  EXPECT_THAT(chart, HasSubstr("chance (1/4)"));
  // The table: chance, both ceilings, the share of the gain; "unknown" for the people's labels.
  EXPECT_THAT(page, HasSubstr("<td>0.250</td><td>0.800 / 0.780</td><td>66%</td>"));
  EXPECT_THAT(page, HasSubstr("<td>-</td><td>unknown</td><td>-</td>"));
}

std::vector<std::string> names_of(const std::vector<std::string>& dirs) {
  std::vector<RunReport> runs(dirs.size());
  for (std::size_t i = 0; i < dirs.size(); ++i) runs[i].dir = dirs[i];
  name_runs(runs);
  std::vector<std::string> names;
  for (const auto& r : runs) names.push_back(r.name);
  return names;
}

TEST(ReportRunNames, ShortAndDistinct) {
  // Shared folders go; what is left is at most the last two folders.
  EXPECT_THAT(names_of({"/w/runs/demo/train", "/w/runs/demo-rounds"}), ElementsAre("demo/train", "demo-rounds"));
  EXPECT_THAT(names_of({"/work/main/runs/demo/train", "/tmp/rep/partial"}), ElementsAre("demo/train", "rep/partial"));
  EXPECT_THAT(names_of({"/w/runs/demo/train"}), ElementsAre("demo/train"));
  // The last two folders would be the same: the paths after the shared folders instead.
  EXPECT_THAT(names_of({"/w/a/x/run", "/w/b/x/run"}), ElementsAre("a/x/run", "b/x/run"));
  EXPECT_THAT(names_of({"/w/run", "/w/run/"}), ElementsAre("run", "run (2)"));
}

TEST_F(ReportHtml, WriteReportWritesOneFileAtomically) {
  testing::write_train_run(dir / "run", SyntheticRun{});
  write_report({dir / "run"}, dir / "out" / "report.html", ReportOptions{});
  EXPECT_THAT(read_text_file(dir / "out" / "report.html"), HasSubstr("</html>"));
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir / "out")) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 1u);  // no temporary left behind
  EXPECT_THROW(write_report({}, dir / "x.html", ReportOptions{}), Error);
}

}  // namespace
}  // namespace rlhf::eval
