// LabelOptions and QueryOptions as configuration sections: keys, defaults, JSON, overrides, checks.
#include "dataset_test_util.h"
#include "rlhf/config/config.h"
#include "rlhf/data/labels.h"
#include "rlhf/data/queries.h"

namespace rlhf::data {
namespace {

using testing::error_of;
using ::testing::HasSubstr;

struct DataConfig {
  LabelOptions labels;
  QueryOptions queries;
  template <class V>
  void visit(V& v) {
    v.section("labels", labels, "Label file");
    v.section("queries", queries, "Query dataset");
  }
};

TEST(DataOptions, KeysDefaultsAndOverrides) {
  DataConfig config;
  const auto keys = config::key_paths(config);
  EXPECT_NE(std::find(keys.begin(), keys.end(), "labels.skip_bad_records"), keys.end());
  EXPECT_NE(std::find(keys.begin(), keys.end(), "queries.reshuffle_each_epoch"), keys.end());

  const auto defaults = config::to_json(config);
  EXPECT_EQ(defaults["labels"]["pad_id"], 50259);
  EXPECT_EQ(defaults["queries"]["query_length"], 64);
  EXPECT_EQ(defaults["queries"]["padding"], "right");
  EXPECT_EQ(defaults["queries"]["shuffle_seed"], 0);

  config::apply_json(config, nlohmann::json::parse(R"({"labels": {"format": "openai", "limit": 4992},
      "queries": {"format": "json", "field": "content", "query_length": 500, "suffix": "\n\nTL;DR:"}})"),
                     "preset");
  config::apply_override(config, "queries.end_text=.", "--set");
  config::validate_config(config);
  EXPECT_EQ(config.labels.limit, 4992u);
  EXPECT_EQ(config.queries.suffix, "\n\nTL;DR:");
  EXPECT_EQ(config.queries.end_text, ".");

  EXPECT_THAT(error_of([&] { config::apply_override(config, "labels.format=csv", "--set"); }),
              HasSubstr("labels.format"));
  EXPECT_THAT(error_of([&] { config::apply_override(config, "queries.padding=middle", "--set"); }),
              HasSubstr("queries.padding"));
  EXPECT_THAT(error_of([&] { config::apply_override(config, "queries.query_length=0", "--set"); }),
              HasSubstr("queries.query_length"));
  EXPECT_THAT(config::describe_markdown(DataConfig{}, "data"), HasSubstr("skip_bad_records"));

  config::apply_override(config, "queries.format=cnndm", "--set");
  config::apply_override(config, "queries.stories_dir=data/cnndm/stories", "--set");
  config::apply_override(config, "queries.skip_missing_stories=true", "--set");
  EXPECT_EQ(config.queries.format, "cnndm");
  EXPECT_EQ(config.queries.stories_dir, "data/cnndm/stories");
  EXPECT_TRUE(config.queries.skip_missing_stories);
  config::apply_override(config, "queries.format=fortune", "--set");
  EXPECT_THAT(error_of([&] { config::apply_override(config, "queries.format=csv", "--set"); }),
              HasSubstr("queries.format"));
  EXPECT_THAT(error_of([&] { config::apply_override(config, "queries.skip_missing_stories=maybe", "--set"); }),
              HasSubstr("queries.skip_missing_stories"));
  EXPECT_THAT(error_of([&] {
                config::apply_json(config, nlohmann::json::parse(R"({"queries": {"story_dir": "x"}})"), "preset");
              }),
              HasSubstr("queries.story_dir"));
}

}  // namespace
}  // namespace rlhf::data
