// `rlhf label` driven in a real terminal: tmux runs it in an 80x24 window, send-keys types, and
// capture-pane reads the screen. Answer, answer, undo, answer again, quit; resume at the right
// question, page through a question that does not fit, skip, Ctrl-C, resume, finish; the label file
// holds the right `best` values and trains a reward model. Skipped when tmux is not installed.
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "cli_fixture.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/files.h"

namespace rlhf::testing {
namespace {

// Runs `command` in a shell and returns its stdout.
std::string capture(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

class LabelCli : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    if (std::system("command -v tmux >/dev/null 2>&1") != 0) GTEST_SKIP() << "tmux is not installed";
  }
  void TearDown() override {
    for (const auto& server : servers_) std::system((server + "kill-server >/dev/null 2>&1").c_str());
    Cli::TearDown();
  }

  // Starts `rlhf <args>` in a fresh 80x24 window; the exit status is shown after it ends. The shell
  // traps SIGINT (a handler, not an ignore, so rlhf gets the default) to survive a Ctrl-C and say so.
  // Each sitting gets a server of its own (-L, a new name): a client that connects to a server still
  // shutting down after kill-server fails with "server exited unexpectedly" (seen once in CI).
  void start(const std::string& args) {
    if (!tmux_.empty()) std::system((tmux_ + "kill-server >/dev/null 2>&1").c_str());
    const std::string shell =
        "trap : INT; " + std::string(RLHF_BINARY) + " " + args + "; echo \"exit status $?\"; sleep 60";
    std::string command;
    for (int attempt = 0; attempt < 3; ++attempt) {
      tmux_ = "tmux -L rlhf_label_" + std::to_string(::getpid()) + "_" + std::to_string(servers_.size()) +
              " -f /dev/null ";
      servers_.push_back(tmux_);
      command = tmux_ + "new-session -d -s label -x 80 -y 24 " + quoted(shell);
      if (std::system(command.c_str()) == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    FAIL() << "tmux did not start: " << command;
  }
  void keys(const std::string& keys) { std::system((tmux_ + "send-keys -t label " + keys).c_str()); }
  std::string screen() { return capture(tmux_ + "capture-pane -p -t label 2>/dev/null"); }

  // Polls the screen until it shows every one of `texts` (10 s at most); returns the last screen.
  std::string wait_for(std::initializer_list<std::string> texts) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::string s;
    while (true) {
      s = screen();
      bool all = true;
      for (const auto& t : texts) all = all && s.find(t) != std::string::npos;
      if (all) return s;
      if (std::chrono::steady_clock::now() > deadline) {
        std::string wanted;
        for (const auto& t : texts) wanted += " \"" + t + "\"";
        ADD_FAILURE() << "the screen never showed" << wanted << "; it shows:\n" << s;
        return s;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
  }

  std::vector<int> bests(const fs::path& labels) {
    std::vector<int> out;
    for (const auto& record : nlohmann::json::parse(slurp(labels))) out.push_back(record.at("best"));
    return out;
  }

  // Four questions of four samples in the OpenAI schema (queries padded with 50259); the third has
  // samples too long for one 80x24 screen.
  void write_questions(const fs::path& path) {
    const auto tok = tokenizer::load_tokenizer(kTiny);
    const auto ids = [&](const std::string& text, std::size_t pad_to = 0) {
      std::vector<int> v = tok->encode(text);
      while (v.size() < pad_to) v.push_back(50259);
      return v;
    };
    std::string long_text;
    for (int i = 0; i < 12; ++i) long_text += " the long road went on and on";
    const std::vector<std::vector<std::string>> texts = {
        {"The cat sat", " on the mat.", " by the door.", " in the sun.", " under a tree."},
        {"A dog ran", " to the park.", " after a ball.", " down the hill.", " into the sea."},
        {"We walked", long_text + " first.", long_text + " second.", long_text + " third.", long_text + " last."},
        {"She sang", " a song.", " all day.", " very well.", " out loud."}};
    nlohmann::json records = nlohmann::json::array();
    for (const auto& t : texts) {
      nlohmann::json r;
      r["query"] = ids(t[0], 8);
      for (int n = 0; n < 4; ++n) r["sample" + std::to_string(n)] = ids(t[static_cast<std::size_t>(n) + 1]);
      records.push_back(r);
    }
    write_file_atomic(path, records.dump() + "\n");
  }

  std::string tmux_;                 // the current sitting's server
  std::vector<std::string> servers_;  // every server started, killed at the end
};

TEST_F(LabelCli, AnswerUndoQuitResumeFinishAndTrain) {
  const fs::path questions = dir / "questions.json";
  const fs::path labels = dir / "labels.json";
  write_questions(questions);
  const std::string args = "label --model " + kTiny.string() + " --in " + questions.string() + " -o " + labels.string();

  // First sitting: 2 on question 1, 3 on question 2, undo, 1 on question 2, quit.
  ASSERT_NO_FATAL_FAILURE(start(args));
  std::string s = wait_for({"question 1 of 4   labeled 0, skipped 0", "The cat sat", "[1] on the mat.", "[4] under a tree.", "1-4 choose"});
  keys("2");
  wait_for({"question 2 of 4", "A dog ran", "question 1: sample 2 chosen (saved)"});
  EXPECT_EQ(bests(labels), std::vector<int>({1}));  // saved at once, before quitting
  keys("3");
  wait_for({"question 3 of 4", "We walked"});
  EXPECT_EQ(bests(labels), std::vector<int>({1, 2}));
  keys("u");
  wait_for({"question 2 of 4", "undone: back to question 2"});
  EXPECT_EQ(bests(labels), std::vector<int>({1}));
  keys("1");
  wait_for({"question 3 of 4"});
  keys("q");
  s = wait_for({"stopped at question 3 of 4 (2 labeled, 0 skipped", "exit status 0"});
  EXPECT_THAT(s, Not(HasSubstr("We walked")));  // the alternate screen is gone
  EXPECT_EQ(bests(labels), std::vector<int>({1, 0}));
  const auto first = nlohmann::json::parse(slurp(labels));
  EXPECT_TRUE(first[0].contains("seconds"));
  EXPECT_GE(first[0].at("seconds").get<double>(), 0.0);

  // Second sitting: resumes at question 3, which needs paging; skip it; Ctrl-C on question 4.
  ASSERT_NO_FATAL_FAILURE(start(args));
  s = wait_for({"question 3 of 4", "We walked", "[1]", "space/b page 1-21/"});
  EXPECT_THAT(s, Not(HasSubstr("[4]")));  // not on the first page
  keys("Space");  // the last page ends at the last line
  s = wait_for({"[4]", "last."});
  EXPECT_THAT(s, HasSubstr("space/b page "));
  EXPECT_THAT(s, Not(HasSubstr("space/b page 1-21/")));
  EXPECT_THAT(s, Not(HasSubstr("We walked")));
  keys("b");
  wait_for({"space/b page 1-21/", "We walked"});
  keys("?");
  wait_for({"u         undo the last answer"});
  keys("x");
  wait_for({"question 3 of 4"});
  keys("s");
  wait_for({"question 4 of 4", "She sang", "question 3 skipped (saved)"});
  keys("C-c");
  wait_for({"exit status 130"});
  EXPECT_EQ(bests(labels), std::vector<int>({1, 0}));  // the skip is not a label

  // Third sitting: resumes at question 4 after the Ctrl-C; answer it; the end screen; exit.
  ASSERT_NO_FATAL_FAILURE(start(args));
  wait_for({"question 4 of 4", "She sang"});
  keys("4");
  wait_for({"All 4 questions are answered: 3 labeled, 1 skipped."});
  keys("Enter");
  wait_for({"all 4 questions of", "3 labeled, 1 skipped", "exit status 0"});
  EXPECT_EQ(bests(labels), std::vector<int>({1, 0, 3}));
  const auto progress = nlohmann::json::parse(slurp(dir / "labels.json.progress.json"));
  ASSERT_EQ(progress.at("answers").size(), 4u);
  EXPECT_EQ(progress.at("answers")[2].at("skipped"), true);

  // Starting again when everything is answered says so and exits 0 (no terminal needed).
  Result r = run(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("all 4 questions of"));

  // The labels train a reward model.
  r = run("train-reward --model " + kTiny.string() + " --labels " + labels.string() + " --output " +
          (dir / "rm").string() +
          " --set normalization.samples=16 --set normalization.rollout_batch_size=16 --set training.batch_size=8"
          " --device cpu --threads 1 --log-level warn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "rm" / "reward_model.json"));
}

TEST_F(LabelCli, ChangedQuestionFileAndNoTerminalAreErrors) {
  const fs::path questions = dir / "questions.json";
  const fs::path labels = dir / "labels.json";
  write_questions(questions);
  const std::string args = "label --model " + kTiny.string() + " --in " + questions.string() + " -o " + labels.string();
  expect_error(run(args + " </dev/null"), "rlhf label is interactive: run it in a terminal");

  ASSERT_NO_FATAL_FAILURE(start(args));
  wait_for({"question 1 of 4"});
  keys("1");
  wait_for({"question 2 of 4"});
  keys("q");
  wait_for({"exit status 0"});
  auto records = nlohmann::json::parse(slurp(questions));
  records[1]["sample2"] = {1, 2, 3};
  write_file_atomic(questions, records.dump());
  expect_error(run(args), "questions.json: the questions changed since labeling started");
}

}  // namespace
}  // namespace rlhf::testing
