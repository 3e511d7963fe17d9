// A person labeling a question file (`rlhf label`), without the terminal: the questions, the answers
// so far (a prefix of the questions: each answer is a chosen sample or a skip, with the seconds it
// took), undo, and the files that make the work crash-proof:
//   LABELS.progress.json  every answer, skips included, with the question count and a fingerprint
//                         of the questions (so a changed question file is caught on resume);
//   LABELS                the answered (not skipped) questions in the OpenAI label schema with
//                         "best" and "seconds" (read_labels ignores the extra key).
// Both are rewritten atomically after every answer; the progress file is the source of truth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "rlhf/data/labels.h"

namespace rlhf::labelers {

struct Answer {
  int best = -1;         // the chosen sample, or -1 for a skipped question
  double seconds = 0.0;  // from showing the question to the answer
  bool skipped() const { return best < 0; }
};

class LabelSession {
 public:
  // Every question must have the same number of samples (read_questions checks it).
  explicit LabelSession(std::vector<data::Comparison> questions);

  std::size_t size() const { return questions_.size(); }
  std::size_t position() const { return answers_.size(); }  // the current question; size() when done
  bool done() const { return position() == size(); }
  int num_samples() const { return num_samples_; }
  const data::Comparison& question(std::size_t i) const { return questions_.at(i); }
  const data::Comparison& current() const;  // throws when done()

  void answer(int best, double seconds);  // best in [0, num_samples); throws when done() or out of range
  void skip(double seconds);              // throws when done()
  bool undo();                            // forgets the last answer and goes back to it; false if none

  const std::vector<Answer>& answers() const { return answers_; }  // answers()[i] belongs to question i
  std::size_t labeled() const;
  std::size_t skipped() const;
  // The answered questions that are not skipped, in order, with best set.
  std::vector<data::Comparison> labeled_items() const;
  // FNV-1a 64 over the count, the sample count and every id of every question (not the file bytes, so
  // reformatting a file does not matter but changing a token does).
  std::uint64_t fingerprint() const { return fingerprint_; }

 private:
  std::vector<data::Comparison> questions_;
  std::vector<Answer> answers_;
  int num_samples_ = 0;
  std::uint64_t fingerprint_ = 0;
};

// LABELS + ".progress.json".
std::filesystem::path progress_path(const std::filesystem::path& labels_file);

// Writes the progress file and then the label file, each atomically. `questions_file` is recorded
// in the progress file for messages.
void save_session(const std::filesystem::path& labels_file, const LabelSession& session,
                  const std::string& questions_file);

// Replays the progress file of `labels_file` (if there is one) into a session with no answers yet.
// Returns false if there is none. Throws Error naming both files when the progress belongs to other
// questions (different count or fingerprint), or naming the progress file when it is malformed.
bool load_session(const std::filesystem::path& labels_file, LabelSession& session, const std::string& questions_file);

// Splits text into lines of at most `width` display columns (one column per UTF-8 code point):
// "\n" breaks a line, words are wrapped at spaces, a word longer than a line is cut. Tabs become a
// space, other control characters U+FFFD. An empty text gives one empty line.
std::vector<std::string> wrap_text(std::string_view text, int width);

}  // namespace rlhf::labelers
