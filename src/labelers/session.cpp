// The labeling session of `rlhf label` and its files (see session.h).
#include "rlhf/labelers/session.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::labelers {
namespace {

constexpr const char* kProgressFormat = "rlhf-label-progress";
constexpr int kProgressVersion = 1;

std::uint64_t fnv1a(std::uint64_t h, std::int64_t value) {
  for (int b = 0; b < 8; ++b) {
    h ^= static_cast<std::uint64_t>(value >> (8 * b)) & 0xffu;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::uint64_t fingerprint_of(const std::vector<data::Comparison>& questions, int num_samples) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  h = fnv1a(h, static_cast<std::int64_t>(questions.size()));
  h = fnv1a(h, num_samples);
  const auto add = [&h](const std::vector<int>& ids) {
    h = fnv1a(h, static_cast<std::int64_t>(ids.size()));  // the length separates neighbouring lists
    for (int id : ids) h = fnv1a(h, id);
  };
  for (const auto& q : questions) {
    add(q.query);
    for (const auto& s : q.samples) add(s);
  }
  return h;
}

std::string hex(std::uint64_t value) { return fmt::format("{:016x}", value); }

}  // namespace

LabelSession::LabelSession(std::vector<data::Comparison> questions) : questions_(std::move(questions)) {
  if (!questions_.empty()) num_samples_ = static_cast<int>(questions_.front().samples.size());
  for (std::size_t i = 0; i < questions_.size(); ++i) {
    if (static_cast<int>(questions_[i].samples.size()) != num_samples_) {
      throw Error(fmt::format("question {} has {} samples, question 0 has {}", i, questions_[i].samples.size(),
                              num_samples_));
    }
  }
  fingerprint_ = fingerprint_of(questions_, num_samples_);
}

const data::Comparison& LabelSession::current() const {
  if (done()) throw Error("label session: every question is answered");
  return questions_[position()];
}

void LabelSession::answer(int best, double seconds) {
  if (done()) throw Error("label session: every question is answered");
  if (best < 0 || best >= num_samples_) {
    throw Error(fmt::format("label session: answer {} is not a sample of question {} (0..{})", best, position(),
                            num_samples_ - 1));
  }
  answers_.push_back({best, seconds});
}

void LabelSession::skip(double seconds) {
  if (done()) throw Error("label session: every question is answered");
  answers_.push_back({-1, seconds});
}

bool LabelSession::undo() {
  if (answers_.empty()) return false;
  answers_.pop_back();
  return true;
}

std::size_t LabelSession::skipped() const {
  std::size_t n = 0;
  for (const auto& a : answers_) n += a.skipped() ? 1 : 0;
  return n;
}

std::size_t LabelSession::labeled() const { return answers_.size() - skipped(); }

std::vector<data::Comparison> LabelSession::labeled_items() const {
  std::vector<data::Comparison> items;
  for (std::size_t i = 0; i < answers_.size(); ++i) {
    if (answers_[i].skipped()) continue;
    items.push_back(questions_[i]);
    items.back().best = answers_[i].best;
  }
  return items;
}

std::filesystem::path progress_path(const std::filesystem::path& labels_file) {
  std::filesystem::path p = labels_file;
  p += ".progress.json";
  return p;
}

void save_session(const std::filesystem::path& labels_file, const LabelSession& session,
                  const std::string& questions_file) {
  nlohmann::ordered_json progress = {{"format", kProgressFormat},
                                     {"version", kProgressVersion},
                                     {"questions_file", questions_file},
                                     {"questions", session.size()},
                                     {"num_samples", session.num_samples()},
                                     {"fingerprint", hex(session.fingerprint())}};
  std::string answers = "[";
  for (std::size_t i = 0; i < session.answers().size(); ++i) {
    const Answer& a = session.answers()[i];
    nlohmann::ordered_json record = {{"question", i}};
    if (a.skipped()) {
      record["skipped"] = true;
    } else {
      record["best"] = a.best;
    }
    record["seconds"] = a.seconds;
    answers += (i == 0 ? "\n" : ",\n") + record.dump();
  }
  answers += "\n]";
  std::string text = progress.dump(1);
  text.insert(text.rfind('\n'), ",\n \"answers\": " + answers);  // one answer a line
  write_file_atomic(progress_path(labels_file), text);

  // The labels: the OpenAI schema, one record a line (as write_questions), plus "seconds".
  std::string out = "[\n";
  bool first = true;
  for (std::size_t i = 0; i < session.answers().size(); ++i) {
    const Answer& a = session.answers()[i];
    if (a.skipped()) continue;
    const data::Comparison& q = session.question(i);
    nlohmann::ordered_json record;
    record["query"] = q.query;
    for (std::size_t n = 0; n < q.samples.size(); ++n) record["sample" + std::to_string(n)] = q.samples[n];
    record["best"] = a.best;
    record["seconds"] = a.seconds;
    out += (first ? "" : ",\n") + record.dump();
    first = false;
  }
  out += first ? "]\n" : "\n]\n";
  write_file_atomic(labels_file, out);
}

bool load_session(const std::filesystem::path& labels_file, LabelSession& session, const std::string& questions_file) {
  const std::filesystem::path path = progress_path(labels_file);
  if (!std::filesystem::exists(path)) return false;
  const std::string where = path.string();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
    throw_file_error(where, std::string("not valid JSON (") + e.what() + "); delete it to start over");
  }
  try {
    if (!j.is_object() || j.value("format", "") != kProgressFormat) {
      throw_file_error(where, std::string("not a progress file of rlhf label (format is not \"") + kProgressFormat +
                                  "\")");
    }
    if (j.at("version").get<int>() != kProgressVersion) {
      throw_file_error(where, fmt::format("version {} is not supported (expected {})", j.at("version").dump(),
                                          kProgressVersion));
    }
    const auto count = j.at("questions").get<std::size_t>();
    const auto fingerprint = j.at("fingerprint").get<std::string>();
    if (count != session.size() || fingerprint != hex(session.fingerprint())) {
      throw Error(fmt::format(
          "{}: the questions changed since labeling started: {} was made for {} questions (fingerprint {}) "
          "of {}, this file has {} (fingerprint {}); give the original question file, or another -o to start over",
          questions_file, where, count, fingerprint, j.value("questions_file", "?"), session.size(),
          hex(session.fingerprint())));
    }
    const auto& answers = j.at("answers");
    for (std::size_t i = 0; i < answers.size(); ++i) {
      const auto& a = answers[i];
      if (a.at("question").get<std::size_t>() != i) {
        throw_file_error(where, fmt::format("answers[{}]: question is {}, expected {} (answers are in order)", i,
                                            a.at("question").dump(), i));
      }
      const double seconds = a.at("seconds").get<double>();
      if (a.value("skipped", false)) {
        session.skip(seconds);
      } else {
        session.answer(a.at("best").get<int>(), seconds);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw_file_error(where, std::string("malformed progress file (") + e.what() + "); delete it to start over");
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.rfind("label session: ", 0) == 0) throw_file_error(where, what.substr(15));
    throw;
  }
  return true;
}

namespace {

// Bytes of the UTF-8 sequence that starts with `lead` (1 for stray continuation bytes).
std::size_t utf8_length(unsigned char lead) {
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}

// One paragraph (no "\n") into lines of at most `width` code points.
void wrap_paragraph(std::string_view text, int width, std::vector<std::string>& lines) {
  std::string line;
  int col = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t spaces = 0;
    while (i + spaces < text.size() && text[i + spaces] == ' ') ++spaces;
    i += spaces;
    if (i >= text.size()) break;
    // The next word: code points up to a space.
    std::vector<std::string> chars;
    while (i < text.size() && text[i] != ' ') {
      const std::size_t n = std::min(utf8_length(static_cast<unsigned char>(text[i])), text.size() - i);
      chars.emplace_back(text.substr(i, n));
      i += n;
    }
    const int gap = col > 0 ? static_cast<int>(spaces) : 0;  // spaces at a line start are dropped
    if (col > 0 && col + gap + static_cast<int>(chars.size()) > width) {
      lines.push_back(line);
      line.clear();
      col = 0;
    } else if (col > 0) {
      line.append(gap, ' ');
      col += gap;
    }
    for (const auto& c : chars) {  // a word longer than a line is cut
      if (col == width) {
        lines.push_back(line);
        line.clear();
        col = 0;
      }
      line += c;
      ++col;
    }
  }
  lines.push_back(line);
}

}  // namespace

std::vector<std::string> wrap_text(std::string_view text, int width) {
  if (width < 1) width = 1;
  std::string clean;  // tabs -> space, other control characters -> U+FFFD
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\t') {
      clean += ' ';
    } else if ((u < 0x20 && c != '\n') || u == 0x7f) {
      clean += "\xEF\xBF\xBD";
    } else {
      clean += c;
    }
  }
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = clean.find('\n', start);
    wrap_paragraph(std::string_view(clean).substr(start, end - start), width, lines);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

}  // namespace rlhf::labelers
