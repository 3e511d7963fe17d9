// rlhf compare on the tiny GPT-2 against a copy biased towards one token: the automatic judge
// (token_count of that token) must prefer the biased copy with an interval clear of 50%; the same
// policy against itself ties everywhere; exported 4-way questions answered for the biased copy's
// samples count as wins; and the errors.
#include <nlohmann/json.hpp>

#include "cli_fixture.h"
#include "rlhf/data/labels.h"
#include "rlhf/labelers/session.h"
#include "rlhf/model/checkpoint.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/files.h"

namespace rlhf::testing {
namespace {

const std::string kCommon =
    " --set task.queries.format=text --set task.queries.query_length=8 --response-length 10"
    " --set task.truncate_token=-1 --device cpu --threads 1 --log-level warn";

class CompareCli : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    std::string text;
    for (const char* s :
         {"The cat sat.", "A dog ran.", "She was here.", "He liked it.", "We went home.", "They saw the sun.",
          "It was red.", "The man sang.", "You were late.", "I am fine.", "Rain fell all day.", "The end came."}) {
      text += std::string(s) + "\n";
    }
    write_file_atomic(dir / "queries.txt", text);
  }

  // The tiny model with the final LayerNorm replaced by a constant: its output is s * wte[X] for the
  // token X with the longest embedding, so the tied head's logits are s * wte[X] . wte[v], largest at
  // v = X (|wte[X]|^2 >= |wte[X]| |wte[v]| >= wte[X] . wte[v]). Returns X.
  int write_biased_model(const fs::path& out) {
    model::Gpt2 model = model::load_gpt2(kTiny);
    at::NoGradGuard no_grad;
    const at::Tensor wte = model->wte->weight;  // [V, C]
    const at::Tensor norms = wte.norm(2, 1);    // [V]
    const int x = static_cast<int>(norms.argmax().item<std::int64_t>());
    const double scale = 40.0 / norms[x].item<double>() / norms[x].item<double>();  // logit of X: 40
    model->ln_f->weight.zero_();
    model->ln_f->bias.copy_(wte[x] * scale);
    model::save_gpt2(*model, out, tokenizer::load_tokenizer(kTiny).get());
    return x;
  }

  std::string queries() const { return " --queries " + (dir / "queries.txt").string(); }
};

TEST_F(CompareCli, JudgePrefersTheBiasedPolicyAndExportedAnswersCountForIt) {
  const fs::path biased = dir / "biased";
  const int x = write_biased_model(biased);
  const std::string judge = " --judge token_count --token " + std::to_string(x);

  // A = biased, B = the tiny model: A writes X nearly every time, B almost never.
  Result r = run("compare " + biased.string() + " " + kTiny.string() + queries() + judge + " -n 12 --json " +
                 (dir / "ab.json").string() + kCommon);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("win rate of A"));
  auto j = nlohmann::json::parse(slurp(dir / "ab.json"));
  EXPECT_EQ(j.at("judge").at("kind"), "token_count");
  EXPECT_EQ(j.at("judge").at("name"), "token_count(" + std::to_string(x) + ")");
  EXPECT_EQ(j.at("queries"), 12);
  const auto& win = j.at("win_rate_a");
  EXPECT_EQ(win.at("compared"), 12);
  EXPECT_GT(win.at("rate").get<double>(), 0.9);
  EXPECT_GT(win.at("ci95_low").get<double>(), 0.5);
  EXPECT_GT(j.at("score_a").at("mean").get<double>(), 5.0);
  EXPECT_LT(j.at("score_b").at("mean").get<double>(), 1.0);
  EXPECT_GT(j.at("score_difference").at("mean").get<double>(), 5.0);
  EXPECT_EQ(j.at("samples").size(), 3u);
  EXPECT_TRUE(fs::exists(dir / "ab.json.config.json"));

  // Swapped: B wins, the interval is below 50%; exported as 4-way questions for people.
  const fs::path questions = dir / "questions.json";
  r = run("compare " + kTiny.string() + " " + biased.string() + queries() + judge + " -n 12 --json " +
          (dir / "ba.json").string() + " --export " + questions.string() + " --way 4" + kCommon);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(slurp(dir / "ba.json"));
  EXPECT_LT(j.at("win_rate_a").at("ci95_high").get<double>(), 0.5);
  EXPECT_EQ(j.at("samples_per_query"), 2);  // 4-way questions need two draws of each policy
  EXPECT_EQ(j.at("win_rate_a").at("compared"), 24);
  EXPECT_TRUE(fs::exists(dir / "questions.txt"));
  const fs::path key = dir / "questions.json.key.json";
  ASSERT_TRUE(fs::exists(key));

  // A person who always picks the sample with the most X's picks B's (the biased policy's) samples;
  // the answers are saved as rlhf label saves them, question 4 skipped.
  auto tokenizer = tokenizer::load_tokenizer(kTiny);
  labelers::LabelSession session(data::read_questions(questions, *tokenizer, {}).items);
  ASSERT_EQ(session.size(), 12u);
  while (!session.done()) {
    if (session.position() == 4) {
      session.skip(1.0);
      continue;
    }
    int best = 0;
    long most = -1;
    for (int s = 0; s < 4; ++s) {
      const auto& ids = session.current().samples[static_cast<std::size_t>(s)];
      const long count = std::count(ids.begin(), ids.end(), x);
      if (count > most) best = s, most = count;
    }
    session.answer(best, 2.0);
  }
  labelers::save_session(dir / "answers.json", session, questions.string());
  r = run("compare --answers " + (dir / "answers.json").string() + " --key " + key.string() + " --json " +
          (dir / "people.json").string() + " --log-level warn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(slurp(dir / "people.json"));
  EXPECT_EQ(j.at("judge").at("kind"), "people");
  EXPECT_EQ(j.at("questions"), 12);
  EXPECT_EQ(j.at("answered"), 11);
  EXPECT_EQ(j.at("win_rate_a").at("losses"), 11);
  EXPECT_DOUBLE_EQ(j.at("win_rate_a").at("rate").get<double>(), 0.0);
  EXPECT_EQ(j.at("policy_b"), biased.string());

  // An answer to a question that was never exported names the file and the record.
  auto records = nlohmann::json::parse(slurp(dir / "answers.json"));
  ASSERT_EQ(records.size(), 11u);  // the skipped question is not in rlhf label's file
  records[2]["sample1"][0] = (records[2]["sample1"][0].get<int>() + 1) % 500;
  write_file_atomic(dir / "answers.json", records.dump());
  r = run("compare --answers " + (dir / "answers.json").string() + " --key " + key.string() + " --log-level warn");
  expect_error(r, (dir / "answers.json").string() + ": record 2");
  expect_error(r, "is not among the questions of " + key.string());
}

TEST_F(CompareCli, APolicyAgainstItselfTiesEverywhereWithATaskConfig) {
  // The task section of a train configuration (other sections ignored), overridden by flags.
  write_file_atomic(dir / "train.json",
                    "// a train configuration\n{\"model\": \"m\", \"labels\": {\"source\": \"mock\"}, \"task\": "
                    "{\"queries\": {\"path\": \"" +
                        (dir / "queries.txt").string() +
                        "\", \"format\": \"text\", \"query_length\": 8}, \"response_length\": 9, "
                        "\"truncate_token\": 54, \"truncate_after\": 2}}");
  Result r =
      run("compare " + kTiny.string() + " " + kTiny.string() + " --task-config " + (dir / "train.json").string() +
          " --response-length 6 --judge token_count --token 54 -n 5 --samples-per-query 3 --json " +
          (dir / "same.json").string() + " --device cpu --threads 1 --log-level warn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(slurp(dir / "same.json"));
  EXPECT_EQ(j.at("win_rate_a").at("ties"), 15);
  EXPECT_DOUBLE_EQ(j.at("win_rate_a").at("rate").get<double>(), 0.5);
  EXPECT_EQ(j.at("task").at("response_length"), 6);
  EXPECT_EQ(j.at("task").at("truncate_token"), 54);
}

TEST_F(CompareCli, Errors) {
  expect_error(run("compare " + kTiny.string() + queries() + kCommon), "two policies");
  expect_error(run("compare " + kTiny.string() + " " + kTiny.string() + " --judge person" + queries() + kCommon),
               "judge.kind: person");
  expect_error(run("compare " + kTiny.string() + " " + kTiny.string() + " --way 3" + queries() + kCommon), "way: 3");
  expect_error(run("compare " + kTiny.string() + " " + kTiny.string() + " --judge token_count --token 5 --export " +
                   (dir / "q.json").string() + " --samples-per-query 1" + queries() + kCommon),
               "samples_per_query: 1");
  expect_error(run("compare --answers " + (dir / "none.json").string() + " --log-level warn"), "key");
  write_file_atomic(dir / "bad.json", "{\"task\": {\"temprature\": 1}}");
  expect_error(run("compare " + kTiny.string() + " " + kTiny.string() + " --task-config " +
                   (dir / "bad.json").string() + kCommon),
               "temprature");
}

}  // namespace
}  // namespace rlhf::testing
