// The non-template pieces: edit distance, suggestions, number formatting, ranges, --set text.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "rlhf/config/config.h"
#include "rlhf/util/error.h"

namespace rlhf::config {
namespace {

using detail::closest_match;
using detail::edit_distance;
using detail::format_number;

TEST(EditDistance, CountsEdits) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("temprature", "temperature"), 1u);
  EXPECT_EQ(edit_distance("fp23", "fp32"), 1u);  // a transposition is one edit
  EXPECT_EQ(edit_distance("device", "device"), 0u);
}

TEST(ClosestMatch, SuggestsOnlyLikelyTypos) {
  const std::vector<std::string> keys{"device", "threads", "seed", "log_level", "precision"};
  EXPECT_EQ(closest_match("devise", keys), std::optional<std::string>("device"));
  EXPECT_EQ(closest_match("Threads", keys), std::optional<std::string>("threads"));
  EXPECT_EQ(closest_match("log-level", keys), std::optional<std::string>("log_level"));
  EXPECT_EQ(closest_match("precission", keys), std::optional<std::string>("precision"));
  EXPECT_FALSE(closest_match("batch_size", keys).has_value());
  EXPECT_FALSE(closest_match("x", keys).has_value());
  EXPECT_FALSE(closest_match("size", keys).has_value());  // two edits from "seed" is too many for 4 letters
  EXPECT_FALSE(closest_match("a", {}).has_value());
}

TEST(FormatNumber, ShortestRoundTrip) {
  EXPECT_EQ(format_number(0.1), "0.1");
  EXPECT_EQ(format_number(1.0), "1");
  EXPECT_EQ(format_number(-0.5), "-0.5");
  EXPECT_EQ(format_number(1e-5), "1e-05");
  EXPECT_EQ(format_number(0.1f), "0.1");
  EXPECT_EQ(format_number(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(format_number(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(format_number(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(format_number(std::nan("")), "nan");
}

TEST(RangeTest, DescribesItself) {
  EXPECT_EQ(Range::at_least(1).describe(), ">= 1");
  EXPECT_EQ(Range::greater_than(0.0).describe(), "> 0");
  EXPECT_EQ(Range::at_most(2.5).describe(), "<= 2.5");
  EXPECT_EQ(Range::less_than(1).describe(), "< 1");
  EXPECT_EQ(Range::between(0, 1).describe(), "in [0, 1]");
  EXPECT_EQ(Range::in_open_closed(0, 1).describe(), "in (0, 1]");
  EXPECT_EQ(Range{}.describe(), "any number");
}

TEST(RangeTest, BoundsAreInclusiveOrExclusiveAsNamed) {
  EXPECT_NO_THROW(Range::at_least(1).check(std::int64_t{1}, "k"));
  EXPECT_THROW(Range::at_least(1).check(std::int64_t{0}, "k"), Error);
  EXPECT_THROW(Range::greater_than(0).check(0.0, "k"), Error);
  EXPECT_NO_THROW(Range::greater_than(0).check(1e-300, "k"));
  EXPECT_NO_THROW(Range::at_most(2).check(2.0f, "k"));
  EXPECT_THROW(Range::at_most(2).check(2.001f, "k"), Error);
  EXPECT_THROW(Range::less_than(1).check(1.0, "k"), Error);
  EXPECT_NO_THROW(Range::between(0, 1).check(0.0, "k"));
  EXPECT_NO_THROW(Range::between(0, 1).check(1.0, "k"));
  EXPECT_THROW(Range::in_open_closed(0, 1).check(0.0, "k"), Error);
  EXPECT_NO_THROW(Range::in_open_closed(0, 1).check(1.0, "k"));
  EXPECT_THROW(Range::at_least(0).check(std::nan(""), "k"), Error);
  EXPECT_NO_THROW(Range::at_least(0).check(std::numeric_limits<std::uint64_t>::max(), "k"));
  EXPECT_THROW(Range::at_most(10).check(std::numeric_limits<std::uint64_t>::max(), "k"), Error);
  try {
    Range::at_least(1).check(std::int64_t{-3}, "a.b");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "a.b: must be >= 1, got -3");
  }
}

TEST(OneOfTest, ChecksAndDescribes) {
  const OneOf sizes{{"124M", "355M"}};
  EXPECT_EQ(sizes.describe(), "one of 124M, 355M");
  EXPECT_NO_THROW(sizes.check("355M", "size"));
  EXPECT_THROW(sizes.check("355m ", "size"), Error);
}

TEST(OverrideText, ParsesByType) {
  using detail::override_text_to_json;
  using detail::Scalar;
  using detail::Shape;
  using detail::TypeInfo;
  EXPECT_EQ(override_text_to_json("hello world", TypeInfo{Scalar::String, Shape::One}), "hello world");
  EXPECT_EQ(override_text_to_json("\"a,b\"", TypeInfo{Scalar::String, Shape::One}), "a,b");
  EXPECT_EQ(override_text_to_json("null", TypeInfo{Scalar::String, Shape::One}), "null");
  EXPECT_TRUE(override_text_to_json("null", TypeInfo{Scalar::String, Shape::Optional}).is_null());
  EXPECT_EQ(override_text_to_json("1", TypeInfo{Scalar::Bool, Shape::One}), true);
  EXPECT_EQ(override_text_to_json("12", TypeInfo{Scalar::Int, Shape::One}), 12);
  EXPECT_EQ(override_text_to_json("12 13", TypeInfo{Scalar::Int, Shape::One}), "12 13");
  EXPECT_EQ(override_text_to_json("[\"a,b\", \"c\"]", TypeInfo{Scalar::String, Shape::List}),
            (nlohmann::json{"a,b", "c"}));
  EXPECT_EQ(override_text_to_json(" 1 , 2 ", TypeInfo{Scalar::Int, Shape::List}), (nlohmann::json{1, 2}));
}

TEST(TypeName, NamesEveryShape) {
  using detail::type_name;
  using detail::TypeOf;
  EXPECT_EQ(type_name(TypeOf<bool>::info), "bool");
  EXPECT_EQ(type_name(TypeOf<std::int64_t>::info), "int64");
  EXPECT_EQ(type_name(TypeOf<std::optional<float>>::info), "optional float");
  EXPECT_EQ(type_name(TypeOf<std::vector<std::string>>::info), "list of strings");
  EXPECT_EQ(type_name(TypeOf<std::vector<double>>::info), "list of doubles");
  static_assert(!TypeOf<std::optional<std::vector<int>>>::supported);
  static_assert(!TypeOf<char>::supported);
}

}  // namespace
}  // namespace rlhf::config
