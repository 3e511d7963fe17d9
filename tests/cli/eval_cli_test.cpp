// `rlhf eval` on a summarization dataset: CNN/Daily Mail stories carry their highlights as references,
// so each policy gets ROUGE and copying statistics, and the lead-3 baseline is scored beside it.
// (Evaluating a `rlhf train` run, and policies compared by score, are in tests/pipeline/train_cli_test.cpp.)
#include <nlohmann/json.hpp>

#include "cli_fixture.h"

namespace rlhf::testing {
namespace {

class EvalCli : public Cli {};

TEST_F(EvalCli, SummarizationGetsRougeLeadThreeAndCopying) {
  const std::string args =
      "eval --policy " + kTiny.string() + " --name tiny --labeler token_count --set labeler.token=54 --queries " +
      (kData / "queries" / "cnndm" / "cases").string() +
      " --set task.queries.format=cnndm --set task.queries.query_length=40 --set task.response_length=12"
      " --set task.truncate_token=-1 --set task.temperature=1 -n 12 --device cpu --threads 2 --log-level warn";
  Result r = run(args + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& summary = j["policies"][0]["summary"];
  for (const char* key : {"rouge1", "rouge2", "rougeL"}) {
    const double f1 = summary["rouge"][key]["mean"];
    EXPECT_GE(f1, 0.0) << key;
    EXPECT_LE(f1, 1.0) << key;
    EXPECT_EQ(summary["rouge"][key]["count"], 12) << key;
  }
  EXPECT_TRUE(summary["rouge"]["stemmed"].get<bool>());
  const double novelty = summary["copying"]["novelty"];
  EXPECT_GE(novelty, 0.0);
  EXPECT_LE(novelty, 1.0);
  // Lead-3 copies the article's start verbatim: nothing novel, and every summary starts with a copy.
  const auto& lead3 = j["lead3"];
  EXPECT_EQ(lead3["copying"]["novelty"], 0.0);
  EXPECT_EQ(lead3["copying"]["copies_start"]["mean"], 1.0);
  EXPECT_GT(lead3["rouge"]["rouge1"]["mean"].get<double>(), summary["rouge"]["rouge1"]["mean"].get<double>());

  r = run(args);  // the table
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ROUGE-1"));
  EXPECT_THAT(r.out, HasSubstr("novelty"));
  EXPECT_THAT(r.out, ContainsRegex("\nlead-3 +[0-9.]+ ± [0-9.]+"));
}

}  // namespace
}  // namespace rlhf::testing
