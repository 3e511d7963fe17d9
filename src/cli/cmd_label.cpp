// rlhf label: a person answers a question file in a terminal (works over ssh, 80x24 and up).
// Plain ANSI and termios, no curses: raw keys, the alternate screen, the terminal restored on exit
// and on SIGINT/SIGTERM/SIGHUP. Every answer is saved at once (see labelers/session.h), so a crash or
// Ctrl-C loses nothing and the same command resumes at the first unanswered question.
#include <fmt/format.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>

#include "common.h"
#include "rlhf/data/labels.h"
#include "rlhf/labelers/session.h"
#include "rlhf/tokenizer/pretokenize.h"
#include "rlhf/tokenizer/tokenizer.h"
#include "rlhf/util/error.h"

namespace rlhf::cli {
namespace {

struct LabelConfig {
  core::RuntimeConfig runtime;
  std::string tokenizer;         // directory with the tokenizer files (the policy's model directory)
  std::string input;             // the questions (from sample-for-labels)
  data::LabelOptions questions;  // how the question file is read (format, pad id)
  std::string output;            // the label file; its progress file sits next to it

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Logging (nothing else is used)");
    v.field("tokenizer", tokenizer, "Directory with the tokenizer files (the policy's model directory)");
    v.field("input", input, "Question file (from sample-for-labels; OpenAI label schema, `best` absent or ignored)");
    v.section("questions", questions, "How the question file is read");
    v.field("output", output,
            "Label file to write (OpenAI label schema with best and seconds); OUTPUT.progress.json keeps every "
            "answer, skips included, and the same command resumes from it");
  }
};

struct LabelArgs {
  ConfigLayers layers;
};

// ---- The terminal -------------------------------------------------------------------------------

termios g_saved_termios;
volatile std::sig_atomic_t g_raw = 0;
volatile std::sig_atomic_t g_resized = 0;
constexpr char kEnter[] = "\033[?1049h\033[?25l";  // alternate screen, hide the cursor
constexpr char kLeave[] = "\033[?1049l\033[?25h";  // back to the normal screen, show the cursor

void write_all(const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

// Async-signal-safe: tcsetattr and write only.
void restore_terminal() {
  if (!g_raw) return;
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_termios);
  [[maybe_unused]] const ssize_t n = ::write(STDOUT_FILENO, kLeave, sizeof kLeave - 1);
  g_raw = 0;
}

void on_fatal_signal(int sig) {
  restore_terminal();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void on_resize(int) { g_resized = 1; }

void require_terminal() {
  if (!::isatty(STDIN_FILENO) || !::isatty(STDOUT_FILENO)) {
    throw Error("rlhf label is interactive: run it in a terminal (stdin and stdout must be a terminal)");
  }
}

// Raw keys (no echo, no line buffering; Ctrl-C still raises SIGINT, Ctrl-Z is disabled so the
// terminal is never left raw under a stopped process) on the alternate screen, for its lifetime.
class RawTerminal {
 public:
  RawTerminal() {
    require_terminal();
    if (::tcgetattr(STDIN_FILENO, &g_saved_termios) != 0) throw Error("cannot read the terminal's settings");
    struct sigaction fatal {};
    fatal.sa_handler = on_fatal_signal;
    sigemptyset(&fatal.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(sig, &fatal, nullptr);
    struct sigaction resize {};
    resize.sa_handler = on_resize;  // no SA_RESTART: a resize interrupts read(), so the screen is redrawn
    sigemptyset(&resize.sa_mask);
    ::sigaction(SIGWINCH, &resize, nullptr);

    termios raw = g_saved_termios;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO | IEXTEN);
    raw.c_iflag &= ~static_cast<tcflag_t>(IXON | ICRNL);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    raw.c_cc[VSUSP] = _POSIX_VDISABLE;
    if (::tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) != 0) throw Error("cannot put the terminal in raw mode");
    g_raw = 1;
    write_all(kEnter);
  }
  ~RawTerminal() {
    restore_terminal();
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH}) std::signal(sig, SIG_DFL);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

  // Rows and columns (80x24 when the terminal does not say).
  static std::pair<int, int> size() {
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
      return {ws.ws_row, ws.ws_col};
    }
    return {24, 80};
  }

  enum Key { kResize = -2, kEnd = -1, kPageDown = 1000, kPageUp, kLineDown, kLineUp };

  // The next key: a byte, one of Key for escape sequences, kResize, or kEnd when input ended.
  int read_key() {
    while (pending_.empty()) {
      char buf[64];
      const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) {
        if (g_resized) {
          g_resized = 0;
          return kResize;
        }
        continue;
      }
      if (n <= 0) return kEnd;
      pending_.append(buf, static_cast<std::size_t>(n));
    }
    if (pending_[0] == '\033') {  // ESC [ 5 ~, ESC [ 6 ~, ESC [ A/B; anything else with ESC is dropped
      static const std::pair<const char*, int> kSequences[] = {
          {"\033[5~", kPageUp}, {"\033[6~", kPageDown}, {"\033[A", kLineUp}, {"\033[B", kLineDown}};
      for (const auto& [seq, key] : kSequences) {
        if (pending_.rfind(seq, 0) == 0) {
          pending_.erase(0, std::char_traits<char>::length(seq));
          return key;
        }
      }
      pending_.clear();
      return read_key();
    }
    const int key = static_cast<unsigned char>(pending_[0]);
    pending_.erase(0, 1);
    return key;
  }

 private:
  std::string pending_;
};

// ---- The screen ---------------------------------------------------------------------------------

// At most `cols` code points of `s`.
std::string clip(const std::string& s, int cols) {
  int count = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80 && count++ == cols) return s.substr(0, i);
  }
  return s;
}

struct Screen {
  std::string header;
  std::string message;              // the result of the last key, or empty
  std::vector<std::string> body;    // already wrapped to the width
  std::string footer;
};

// Draws header, message, as much of the body as fits from `top`, and the footer on the last row
// (reverse video). Returns the number of body rows shown.
int draw(const Screen& s, int top, int rows, int cols) {
  const int height = std::max(1, rows - 3);
  std::string out = "\033[H\033[2J\033[1m" + clip(s.header, cols) + "\033[0m\r\n" + clip(s.message, cols) + "\r\n";
  for (int r = 0; r < height; ++r) {
    const std::size_t i = static_cast<std::size_t>(top + r);
    if (i < s.body.size()) out += clip(s.body[i], cols);
    out += "\r\n";
  }
  out += "\033[7m" + clip(s.footer, cols - 1) + "\033[0m";  // never the last column: no scroll
  write_all(out);
  return height;
}

// ---- The labeling loop --------------------------------------------------------------------------

class Labeler {
 public:
  Labeler(labelers::LabelSession& session, const tokenizer::Tokenizer& tokenizer, const LabelConfig& config)
      : session_(session), tokenizer_(tokenizer), config_(config) {}

  // Returns when the person quits or, after the last answer, leaves the "all done" screen.
  void run() {
    RawTerminal terminal;
    restart_clock();
    bool help = false;
    while (true) {
      const auto [rows, cols] = RawTerminal::size();
      const Screen screen = help ? help_screen() : session_.done() ? done_screen() : question_screen(cols);
      const int height = std::max(1, rows - 3);
      top_ = std::clamp(top_, 0, std::max(0, static_cast<int>(screen.body.size()) - height));
      draw(with_pager(screen, height), top_, rows, cols);
      const int key = terminal.read_key();
      if (key == RawTerminal::kResize) continue;
      if (key == RawTerminal::kEnd || key == 'q' || key == 'Q' || key == 4) return;
      if (help) {
        help = false;
        continue;
      }
      if (key == ' ' || key == RawTerminal::kPageDown) {
        top_ += height;
      } else if (key == 'b' || key == RawTerminal::kPageUp) {
        top_ -= height;
      } else if (key == RawTerminal::kLineDown) {
        ++top_;
      } else if (key == RawTerminal::kLineUp) {
        --top_;
      } else if (key == '?' || key == 'h') {
        help = true;
      } else if (key == 'u' || key == 'U') {
        undo();
      } else if (session_.done()) {
        return;  // any other key leaves the "all done" screen
      } else if (key == 's' || key == 'S') {
        const std::size_t q = session_.position();
        session_.skip(elapsed());
        saved(fmt::format("question {} skipped", q + 1));
      } else if (key >= '1' && key < '1' + session_.num_samples()) {
        const std::size_t q = session_.position();
        session_.answer(key - '1', elapsed());
        saved(fmt::format("question {}: sample {} chosen", q + 1, key - '0'));
      } else {
        message_ = fmt::format("keys: 1-{} choose, s skip, u undo, q quit, ? help", session_.num_samples());
      }
    }
  }

 private:
  double elapsed() const {
    const std::chrono::duration<double> d = std::chrono::steady_clock::now() - shown_;
    return std::round(d.count() * 1000.0) / 1000.0;
  }
  void restart_clock() { shown_ = std::chrono::steady_clock::now(); }

  void saved(const std::string& what) {
    labelers::save_session(config_.output, session_, config_.input);
    message_ = what + " (saved)";
    top_ = 0;
    restart_clock();
  }

  void undo() {
    if (!session_.undo()) {
      message_ = "nothing to undo";
      return;
    }
    saved(fmt::format("undone: back to question {}", session_.position() + 1));
  }

  std::string text_of(const std::vector<int>& ids) const {
    std::vector<int> real;
    for (int id : ids) {
      if (id != config_.questions.pad_id) real.push_back(id);
    }
    return tokenizer::to_valid_utf8(tokenizer_.decode(real));
  }

  std::string header() const {
    return fmt::format("labeled {}, skipped {}   {}", session_.labeled(), session_.skipped(), config_.input);
  }

  // "question i of n", the query, then the numbered samples with a hanging indent.
  Screen question_screen(int cols) const {
    const data::Comparison& q = session_.current();
    Screen s;
    s.header = fmt::format("question {} of {}   ", session_.position() + 1, session_.size()) + header();
    s.message = message_;
    s.body.push_back("Query:");
    for (const auto& line : labelers::wrap_text(text_of(q.query), cols - 2)) s.body.push_back("  " + line);
    for (int n = 0; n < session_.num_samples(); ++n) {
      s.body.emplace_back();
      const auto lines = labelers::wrap_text(text_of(q.samples[static_cast<std::size_t>(n)]), cols - 4);
      for (std::size_t i = 0; i < lines.size(); ++i) {
        s.body.push_back((i == 0 ? fmt::format("[{}] ", n + 1) : std::string(4, ' ')) + lines[i]);
      }
    }
    s.footer = fmt::format("1-{} choose  s skip  u undo  q quit  ? help", session_.num_samples());
    return s;
  }

  Screen done_screen() const {
    Screen s;
    s.header = fmt::format("all {} questions answered   ", session_.size()) + header();
    s.message = message_;
    s.body = {fmt::format("All {} questions are answered: {} labeled, {} skipped.", session_.size(),
                          session_.labeled(), session_.skipped()),
              "Labels are saved in " + config_.output + ".", "",
              "Press u to undo the last answer, any other key to exit."};
    s.footer = "u undo  any other key: exit";
    return s;
  }

  Screen help_screen() const {
    Screen s;
    s.header = "help   " + header();
    s.body = {fmt::format("1-{}       choose that sample as the best continuation of the query", session_.num_samples()),
              "s         skip this question (recorded as skipped, not written as a label)",
              "u         undo the last answer or skip and go back to that question",
              "space, b  next / previous page when the texts do not fit (also PgDn/PgUp, arrows)",
              "q         quit; every answer is already saved: run the same command to resume",
              "?         this help",
              "",
              "Answers are saved to " + config_.output + " after every key; the time spent on each",
              "question is recorded in seconds.",
              "",
              "Press any key to go back."};
    s.footer = "any key: back";
    return s;
  }

  // Tells the person when there is more to see than fits.
  Screen with_pager(Screen s, int height) const {
    const int total = static_cast<int>(s.body.size());
    if (total > height) {
      s.footer += fmt::format("  space/b page {}-{}/{}", top_ + 1, std::min(total, top_ + height), total);
    }
    return s;
  }

  labelers::LabelSession& session_;
  const tokenizer::Tokenizer& tokenizer_;
  const LabelConfig& config_;
  std::chrono::steady_clock::time_point shown_;
  std::string message_;
  int top_ = 0;  // first body line shown
};

void run_label(LabelArgs& args) {
  const auto config = resolve_config<LabelConfig>(args.layers);
  core::init_runtime(config.runtime);
  if (config.input.empty()) throw Error("input: no question file given (--in FILE)");
  if (config.output.empty() || config.output == "-") throw Error("output: give the label file to write (-o FILE)");
  if (config.tokenizer.empty()) throw Error("tokenizer: give the directory of the tokenizer (--model DIR)");
  const auto tokenizer = tokenizer::load_tokenizer(config.tokenizer);
  data::LabelSet set = data::read_questions(config.input, *tokenizer, config.questions);
  if (set.num_samples > 9) {
    throw_file_error(config.input, fmt::format("{} samples per question; rlhf label shows at most 9 (keys 1-9)",
                                               set.num_samples));
  }
  labelers::LabelSession session(std::move(set.items));
  const bool resumed = labelers::load_session(config.output, session, config.input);
  const auto summary = [&] {
    return fmt::format("{} labeled, {} skipped; labels in {}", session.labeled(), session.skipped(), config.output);
  };
  if (session.done()) {
    labelers::save_session(config.output, session, config.input);  // the labels, even if deleted
    fmt::print("all {} questions of {} are answered: {}\n", session.size(), config.input, summary());
    return;
  }
  require_terminal();
  // Rewritten from the progress file (the source of truth) at once: fails early if -o cannot be written.
  labelers::save_session(config.output, session, config.input);
  save_config_next_to(config.output, config);
  if (resumed) spdlog::info("resuming at question {} of {}", session.position() + 1, session.size());
  Labeler(session, *tokenizer, config).run();
  if (session.done()) {
    fmt::print("all {} questions of {} are answered: {}\n", session.size(), config.input, summary());
  } else {
    fmt::print("stopped at question {} of {} ({}); run the same command to continue\n", session.position() + 1,
               session.size(), summary());
  }
}

}  // namespace

void register_label(CLI::App& app) {
  register_config_doc<LabelConfig>("label");
  auto args = std::make_shared<LabelArgs>();
  CLI::App* cmd = app.add_subcommand("label", "Label a question file yourself, in the terminal (resumable)");
  add_config_options(*cmd, args->layers);
  add_key_flag(*cmd, "--log-level", "runtime.log_level", args->layers, "trace, debug, info, warn, error, off");
  add_key_flag(*cmd, "--model,--tokenizer", "tokenizer", args->layers, "Directory with the tokenizer files");
  add_key_flag(*cmd, "--in,-i", "input", args->layers, "Question file (from sample-for-labels)");
  add_key_flag(*cmd, "--output,-o", "output", args->layers, "Label file to write (and resume)");
  add_key_flag(*cmd, "--pad-id", "questions.pad_id", args->layers, "Pad id inside the question file (50259)");
  cmd->callback([args] { run_label(*args); });
}

}  // namespace rlhf::cli
