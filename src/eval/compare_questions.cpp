// Head-to-head questions for people: building them from both policies' responses with a recorded
// shuffle, the key file, and counting the answers (`rlhf label`'s label file) against the key.
#include <map>
#include <utility>

#include "rlhf/data/shuffle.h"
#include "rlhf/eval/compare.h"
#include "rlhf/labelers/questions.h"
#include "rlhf/util/error.h"
#include "rlhf/util/files.h"

namespace rlhf::eval {
namespace {

constexpr const char* kKeyFormat = "rlhf compare key";
constexpr int kKeyVersion = 1;

using Ids = std::vector<int>;

Ids row_ids(const at::Tensor& t, std::int64_t row) {
  const at::Tensor r = t[row].to(at::kCPU, at::kLong).contiguous();
  return Ids(r.data_ptr<std::int64_t>(), r.data_ptr<std::int64_t>() + r.numel());
}

Ids strip(const Ids& ids, int pad_id) {
  Ids out;
  for (int id : ids) {
    if (id != pad_id) out.push_back(id);
  }
  return out;
}

std::string show_ids(const Ids& ids) {
  std::string s = "[";
  for (std::size_t i = 0; i < ids.size() && i < 8; ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + (ids.size() > 8 ? ", ...]" : "]");
}

void check_shapes(const PolicyResponses& a, const PolicyResponses& b, std::size_t samples_per_query, int way) {
  if (way != 2 && way != 4) throw Error("way: " + std::to_string(way) + "; expected 2 or 4 samples per question");
  if (samples_per_query < static_cast<std::size_t>(way / 2)) {
    throw Error("samples_per_query: " + std::to_string(samples_per_query) +
                " sample(s) of each policy per query, but " + std::to_string(way) + "-way questions need " +
                std::to_string(way / 2));
  }
  const std::int64_t rows = a.processed.size(0);
  if (b.processed.size(0) != rows || rows % static_cast<std::int64_t>(samples_per_query) != 0) {
    throw Error("compare: A has " + std::to_string(rows) + " responses and B " + std::to_string(b.processed.size(0)) +
                "; expected the same multiple of " + std::to_string(samples_per_query));
  }
}


// ---- Reading the key ----

template <class T>
T field(const nlohmann::json& j, const char* name, const std::string& where) {
  if (!j.is_object() || !j.contains(name)) throw Error(where + ": missing field \"" + name + "\"");
  try {
    return j.at(name).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(where + ": field \"" + name + "\" has the wrong type (" + j.at(name).dump().substr(0, 40) + ")");
  }
}

data::Comparison read_key_question(const nlohmann::json& q, const std::string& where, int way, std::string& sources) {
  data::Comparison c;
  c.best = -1;
  c.query = field<Ids>(q, "query", where);
  c.samples = field<std::vector<Ids>>(q, "samples", where);
  sources = field<std::string>(q, "sources", where);
  if (static_cast<int>(c.samples.size()) != way || static_cast<int>(sources.size()) != way) {
    throw Error(where + ": " + std::to_string(c.samples.size()) + " samples and sources \"" + sources +
                "\"; expected " + std::to_string(way) + " of each");
  }
  int from_a = 0;
  for (char s : sources) {
    if (s != 'A' && s != 'B') throw Error(where + ": sources \"" + sources + "\" may hold only the letters A and B");
    from_a += s == 'A' ? 1 : 0;
  }
  if (from_a != way / 2) throw Error(where + ": sources \"" + sources + "\" must name A and B equally often");
  return c;
}

}  // namespace

ComparisonKey make_comparison_questions(const PolicyResponses& a, const PolicyResponses& b,
                                        std::size_t samples_per_query, int way, std::uint64_t seed, int pad_id) {
  check_shapes(a, b, samples_per_query, way);
  ComparisonKey key;
  key.seed = seed;
  key.way = way;
  key.pad_id = pad_id;
  data::PythonRandom rng(seed);
  const auto n = static_cast<std::int64_t>(samples_per_query);
  for (std::int64_t first = 0; first < a.processed.size(0); first += n) {
    const Ids query = row_ids(a.query, first);
    if (query != row_ids(b.query, first)) {
      throw Error("compare: A and B answered different queries at row " + std::to_string(first));
    }
    std::vector<std::pair<char, Ids>> samples;  // (policy, response)
    for (std::int64_t k = 0; k < way / 2; ++k) {
      samples.emplace_back('A', row_ids(a.processed, first + k));
      samples.emplace_back('B', row_ids(b.processed, first + k));
    }
    data::python_shuffle(samples, rng);
    data::Comparison c;
    c.query = query;
    c.best = -1;
    std::string sources;
    for (auto& [policy, response] : samples) {
      sources += policy;
      c.samples.push_back(std::move(response));
    }
    key.questions.push_back(std::move(c));
    key.sources.push_back(sources);
  }
  return key;
}

std::filesystem::path key_path(const std::filesystem::path& questions_file) {
  return std::filesystem::path(questions_file.string() + ".key.json");
}

void export_questions(const std::filesystem::path& questions_file, ComparisonKey& key,
                      const tokenizer::Tokenizer& tokenizer) {
  key.questions_file = questions_file.string();
  labelers::write_questions(questions_file, key.questions, /*with_best=*/false);
  labelers::write_questions_text(labelers::text_rendering_path(questions_file), key.questions, tokenizer, key.pad_id);
  write_key(key_path(questions_file), key);
}

void write_key(const std::filesystem::path& path, const ComparisonKey& key) {
  nlohmann::ordered_json head;
  head["format"] = kKeyFormat;
  head["version"] = kKeyVersion;
  head["policy_a"] = key.policy_a;
  head["policy_b"] = key.policy_b;
  head["seed"] = key.seed;
  head["way"] = key.way;
  head["pad_id"] = key.pad_id;
  head["questions_file"] = key.questions_file;
  // One question per line: the header fields, then "questions": [...].
  std::string out = head.dump(2);
  out.erase(out.size() - 2);  // "\n}"
  out += ",\n  \"questions\": [\n";
  for (std::size_t i = 0; i < key.questions.size(); ++i) {
    const nlohmann::ordered_json q = {
        {"sources", key.sources.at(i)}, {"query", key.questions[i].query}, {"samples", key.questions[i].samples}};
    out += "    " + q.dump() + (i + 1 < key.questions.size() ? ",\n" : "\n");
  }
  out += "  ]\n}\n";
  write_file_atomic(path, out);
}

ComparisonKey read_key(const std::filesystem::path& path) {
  const std::string file = path.string();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw_file_error(file, std::string("not valid JSON (") + e.what() + ")");
  }
  if (!j.is_object() || j.value("format", "") != kKeyFormat) {
    throw_file_error(file, "not a comparison key (field \"format\" should be \"" + std::string(kKeyFormat) +
                               "\"; keys are written by rlhf compare --export)");
  }
  if (field<int>(j, "version", file) != kKeyVersion) {
    throw_file_error(file,
                     "version " + j.at("version").dump() + "; this rlhf reads version " + std::to_string(kKeyVersion));
  }
  ComparisonKey key;
  key.policy_a = field<std::string>(j, "policy_a", file);
  key.policy_b = field<std::string>(j, "policy_b", file);
  key.seed = field<std::uint64_t>(j, "seed", file);
  key.way = field<int>(j, "way", file);
  key.pad_id = field<int>(j, "pad_id", file);
  key.questions_file = field<std::string>(j, "questions_file", file);
  if (key.way != 2 && key.way != 4) throw_file_error(file, "way: " + std::to_string(key.way) + "; expected 2 or 4");
  const auto questions = field<std::vector<nlohmann::json>>(j, "questions", file);
  if (questions.empty()) throw_file_error(file, "questions: empty");
  for (std::size_t i = 0; i < questions.size(); ++i) {
    std::string sources;
    key.questions.push_back(
        read_key_question(questions[i], file + ": question " + std::to_string(i), key.way, sources));
    key.sources.push_back(sources);
  }
  return key;
}

PeopleVerdict tally_answers(const ComparisonKey& key, const std::vector<data::Comparison>& answers,
                            const std::string& answers_name, const std::string& key_name) {
  using Content = std::pair<Ids, std::vector<Ids>>;  // query, samples in order (pads dropped)
  const auto content = [&](const data::Comparison& c) {
    Content out{strip(c.query, key.pad_id), {}};
    for (const Ids& s : c.samples) out.second.push_back(strip(s, key.pad_id));
    return out;
  };
  std::map<Content, std::vector<std::size_t>> in_key;  // content -> the key's questions, in order
  for (std::size_t q = 0; q < key.questions.size(); ++q) in_key[content(key.questions[q])].push_back(q);
  std::map<Content, std::size_t> used;

  std::size_t wins = 0, ties = 0, losses = 0;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const std::string where = answers_name + ": record " + std::to_string(i);
    const data::Comparison& answer = answers[i];
    if (static_cast<int>(answer.samples.size()) != key.way) {
      throw Error(where + " has " + std::to_string(answer.samples.size()) + " samples; the questions of " + key_name +
                  " have " + std::to_string(key.way));
    }
    const Content c = content(answer);
    const auto it = in_key.find(c);
    std::size_t& taken = used[c];
    if (it == in_key.end() || taken >= it->second.size()) {
      throw Error(where + " (query " + show_ids(c.first) + ") is not among the questions of " + key_name +
                  (it == in_key.end() ? " (same query and samples, in the same order)"
                                      : " (it is answered more often than the key holds it)") +
                  "; answer the questions exported with this key");
    }
    if (answer.best < 0 || answer.best >= key.way) {
      throw Error(where + ": best " + std::to_string(answer.best) + " is not a sample index");
    }
    const std::size_t q = it->second[taken++];
    const auto best = static_cast<std::size_t>(answer.best);
    const char chosen = key.sources[q][best];
    bool tie = false;  // the other policy produced the very same text
    for (std::size_t s = 0; s < c.second.size(); ++s)
      tie |= key.sources[q][s] != chosen && c.second[s] == c.second[best];
    if (tie) {
      ++ties;
    } else if (chosen == 'A') {
      ++wins;
    } else {
      ++losses;
    }
  }
  if (answers.empty()) throw Error(answers_name + ": no answers (every question skipped or none answered yet)");
  PeopleVerdict v;
  v.win = win_rate(wins, ties, losses);
  v.questions = key.questions.size();
  v.answered = answers.size();
  return v;
}

}  // namespace rlhf::eval
