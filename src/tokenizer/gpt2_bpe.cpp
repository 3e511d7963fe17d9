#include "rlhf/tokenizer/gpt2_bpe.h"

#include <climits>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <queue>

#include "rlhf/util/error.h"
#include "rlhf/util/files.h"
#include "rlhf/util/json_depth.h"

namespace rlhf::tokenizer {

namespace {

constexpr const char* kEndOfText = "<|endoftext|>";
constexpr size_t kMaxCachedChunk = 64;        // bytes; longer chunks are rare and would bloat the cache
constexpr size_t kMaxCacheEntries = 1 << 16;  // cleared when reached, so memory stays bounded

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Code point -> byte for the 256 characters of byte_to_unicode (all below U+0144); -1 elsewhere.
const std::array<int, 0x144>& unicode_to_byte() {
  static const std::array<int, 0x144> table = [] {
    std::array<int, 0x144> t{};
    t.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[static_cast<size_t>(printable ? b : 256 + n++)] = b;
    }
    return t;
  }();
  return table;
}

// The raw bytes a vocabulary piece stands for: each byte-level character back to its byte. A character
// outside the table (only in hand-added tokens) is kept as its own UTF-8 bytes.
std::string piece_to_bytes(std::string_view piece) {
  const auto& table = unicode_to_byte();
  std::string bytes;
  size_t pos = 0;
  while (pos < piece.size()) {
    const int length = utf8_sequence_length(piece, pos);
    if (length == 2) {
      const auto b0 = static_cast<std::uint32_t>(static_cast<unsigned char>(piece[pos]));
      const auto b1 = static_cast<std::uint32_t>(static_cast<unsigned char>(piece[pos + 1]));
      const std::uint32_t cp = ((b0 & 0x1F) << 6) | (b1 & 0x3F);
      if (cp < table.size() && table[cp] >= 0) {
        bytes += static_cast<char>(table[cp]);
        pos += 2;
        continue;
      }
    } else if (length == 1 && table[static_cast<unsigned char>(piece[pos])] >= 0) {
      bytes += piece[pos++];  // printable ASCII maps to itself
      continue;
    }
    const size_t step = length > 0 ? static_cast<size_t>(length) : 1;
    bytes.append(piece.substr(pos, step));
    pos += step;
  }
  return bytes;
}

std::string show(const std::string& piece) {
  return nlohmann::json(piece).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::pair<std::string, int>> parse_vocab(std::string_view text, const std::string& name) {
  check_json_depth(text, name);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw_file_error(name, std::string("invalid JSON: ") + e.what());
  }
  if (!json.is_object()) throw_file_error(name, "expected a JSON object mapping piece -> id");
  std::vector<std::pair<std::string, int>> vocab;
  vocab.reserve(json.size());
  for (const auto& [piece, value] : json.items()) {
    // nlohmann reads non-negative integers as unsigned, negative ones as signed.
    const bool in_range = value.is_number_unsigned() && value.get<std::uint64_t>() <= INT_MAX;
    if (!in_range) {
      throw_file_error(name, "piece " + show(piece) + ": id must be an integer in [0, " + std::to_string(INT_MAX) +
                                 "], got " + value.dump());
    }
    vocab.emplace_back(piece, value.get<int>());
  }
  return vocab;
}

// Lines "left right"; "#version..." lines and blank lines are skipped. `lines` gets each merge's line number.
std::vector<Gpt2BpeTokenizer::Merge> parse_merges(std::string_view text, const std::string& name,
                                                  std::vector<int>& lines) {
  std::vector<Gpt2BpeTokenizer::Merge> merges;
  int line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.rfind("#version", 0) == 0) continue;
    std::vector<std::string_view> fields;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      const size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
      if (i > start) fields.push_back(line.substr(start, i - start));
    }
    if (fields.empty()) continue;
    if (fields.size() != 2) {
      throw_file_error(name, "line " + std::to_string(line_number) +
                                 ": expected two pieces separated by a space, got " + show(std::string(line)));
    }
    merges.emplace_back(std::string(fields[0]), std::string(fields[1]));
    lines.push_back(line_number);
  }
  return merges;
}

}  // namespace

const std::array<std::string, 256>& byte_to_unicode() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    const auto& inverse = unicode_to_byte();
    for (std::uint32_t cp = 0; cp < inverse.size(); ++cp) {
      if (inverse[cp] >= 0) append_utf8(t[static_cast<size_t>(inverse[cp])], cp);
    }
    return t;
  }();
  return table;
}

std::unique_ptr<Gpt2BpeTokenizer> Gpt2BpeTokenizer::from_files(const std::filesystem::path& vocab_path,
                                                               const std::filesystem::path& merges_path) {
  const std::string vocab = read_text_file(vocab_path);
  const std::string merges = read_text_file(merges_path);
  return from_strings(vocab, merges, vocab_path.string(), merges_path.string());
}

std::unique_ptr<Gpt2BpeTokenizer> Gpt2BpeTokenizer::from_strings(std::string_view vocab_json,
                                                                 std::string_view merges_txt,
                                                                 const std::string& vocab_name,
                                                                 const std::string& merges_name) {
  auto vocab = parse_vocab(vocab_json, vocab_name);
  std::vector<int> lines;
  auto merges = parse_merges(merges_txt, merges_name, lines);
  return std::unique_ptr<Gpt2BpeTokenizer>(
      new Gpt2BpeTokenizer(std::move(vocab), std::move(merges), lines, vocab_name, merges_name));
}

Gpt2BpeTokenizer::Gpt2BpeTokenizer(std::vector<std::pair<std::string, int>> vocab, std::vector<Merge> merges,
                                   const std::string& vocab_name, const std::string& merges_name)
    : Gpt2BpeTokenizer(std::move(vocab), std::move(merges), {}, vocab_name, merges_name) {}

Gpt2BpeTokenizer::Gpt2BpeTokenizer(std::vector<std::pair<std::string, int>> vocab, std::vector<Merge> merges,
                                   const std::vector<int>& merge_lines, const std::string& vocab_name,
                                   const std::string& merges_name)
    : merges_(std::move(merges)) {
  if (vocab.empty()) throw_file_error(vocab_name, "the vocabulary is empty");
  int max_id = -1;
  for (const auto& [piece, id] : vocab) {
    if (id < 0) throw_file_error(vocab_name, "piece " + show(piece) + " has negative id " + std::to_string(id));
    max_id = std::max(max_id, id);
  }
  // Gaps in the ids are allowed (a gap id is out of range), but not so many that the tables explode.
  if (static_cast<size_t>(max_id) >= 2 * vocab.size() + 256) {
    throw_file_error(vocab_name, "id " + std::to_string(max_id) + " is far beyond the " + std::to_string(vocab.size()) +
                                     " pieces (ids should run from 0 to the number of pieces - 1)");
  }
  pieces_.assign(static_cast<size_t>(max_id) + 1, "");
  has_piece_.assign(pieces_.size(), false);
  id_bytes_.assign(pieces_.size(), "");
  for (auto& [piece, id] : vocab) {
    if (has_piece_[static_cast<size_t>(id)]) {
      throw_file_error(vocab_name,
                       "id " + std::to_string(id) + " is used by both " + show(pieces_[id]) + " and " + show(piece));
    }
    if (!piece_ids_.emplace(piece, id).second) throw_file_error(vocab_name, "piece " + show(piece) + " appears twice");
    has_piece_[static_cast<size_t>(id)] = true;
    id_bytes_[static_cast<size_t>(id)] = piece_to_bytes(piece);
    pieces_[static_cast<size_t>(id)] = std::move(piece);
  }
  for (int b = 0; b < 256; ++b) {
    const auto it = piece_ids_.find(byte_to_unicode()[static_cast<size_t>(b)]);
    if (it == piece_ids_.end()) {
      throw_file_error(vocab_name, "no piece for byte " + std::to_string(b) + " (" + show(byte_to_unicode()[b]) +
                                       "): not a GPT-2 byte-level BPE vocabulary");
    }
    byte_ids_[static_cast<size_t>(b)] = it->second;
  }
  const auto eos = piece_ids_.find(kEndOfText);
  eos_id_ = eos == piece_ids_.end() ? -1 : eos->second;

  for (size_t rank = 0; rank < merges_.size(); ++rank) {
    // Named references, not a structured binding: lambdas cannot capture those before C++20.
    const std::string& left = merges_[rank].first;
    const std::string& right = merges_[rank].second;
    const auto where = [&] {
      return rank < merge_lines.size() ? "line " + std::to_string(merge_lines[rank]) : "merge #" + std::to_string(rank);
    };
    const auto id_of = [&](const std::string& piece) {
      const auto it = piece_ids_.find(piece);
      if (it == piece_ids_.end()) {
        throw_file_error(merges_name, where() + ": merge " + show(left + " " + right) + ": " + show(piece) +
                                          " is not in the vocabulary (" + vocab_name + ")");
      }
      return it->second;
    };
    const int left_id = id_of(left), right_id = id_of(right), merged_id = id_of(left + right);
    const auto [it, inserted] =
        merge_of_.emplace(pair_key(left_id, right_id), MergeTarget{static_cast<int>(rank), merged_id});
    if (!inserted) {
      const auto first = static_cast<size_t>(it->second.rank);
      throw_file_error(merges_name, where() + ": merge " + show(left + " " + right) + " repeats " +
                                        (first < merge_lines.size() ? "line " + std::to_string(merge_lines[first])
                                                                    : "merge #" + std::to_string(first)));
    }
  }
}

// encoder.py's loop, without its quadratic rescans: symbols form a linked list over byte positions,
// and a min-heap holds (rank, position) of mergeable adjacent pairs. Each round takes every entry of
// the lowest rank (popped in position order), merges those still valid left to right (an occurrence
// overlapping one merged just before is stale and skipped, as in encoder.py), and only then queues the
// pairs the merges created, so a lower-ranked new pair never cuts into a round. O(n log n).
std::vector<int> Gpt2BpeTokenizer::bpe(std::string_view chunk) const {
  const int n = static_cast<int>(chunk.size());
  std::vector<int> ids(chunk.size()), prev(chunk.size()), next(chunk.size());
  for (int i = 0; i < n; ++i) {
    ids[i] = byte_ids_[static_cast<unsigned char>(chunk[static_cast<size_t>(i)])];
    prev[i] = i - 1;
    next[i] = i + 1;
  }
  using Entry = std::pair<int, int>;  // (rank, position of the pair's left symbol)
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
  const auto find_merge = [&](int left) -> const MergeTarget* {
    if (left < 0 || next[left] >= n) return nullptr;
    const auto it = merge_of_.find(pair_key(ids[left], ids[next[left]]));
    return it == merge_of_.end() ? nullptr : &it->second;
  };
  const auto push = [&](int left) {
    if (const MergeTarget* merge = find_merge(left)) heap.emplace(merge->rank, left);
  };
  for (int i = 0; i + 1 < n; ++i) push(i);

  std::vector<int> merged_at;
  while (!heap.empty()) {
    const int rank = heap.top().first;
    merged_at.clear();
    while (!heap.empty() && heap.top().first == rank) {
      const int left = heap.top().second;
      heap.pop();
      if (ids[left] < 0) continue;  // absorbed into its left neighbour
      const MergeTarget* merge = find_merge(left);
      if (merge == nullptr || merge->rank != rank) continue;  // the pair there has changed
      const int right = next[left];
      ids[left] = merge->merged_id;
      ids[right] = -1;
      next[left] = next[right];
      if (next[right] < n) prev[next[right]] = left;
      merged_at.push_back(left);
    }
    for (const int left : merged_at) {
      push(prev[left]);
      push(left);
    }
  }
  std::vector<int> out;
  for (int i = 0; i < n; i = next[i]) out.push_back(ids[i]);
  return out;
}

void Gpt2BpeTokenizer::append_bpe(std::string_view chunk, std::vector<int>& out) const {
  if (chunk.size() == 1) {
    out.push_back(byte_ids_[static_cast<unsigned char>(chunk[0])]);
    return;
  }
  const bool cacheable = chunk.size() <= kMaxCachedChunk;
  if (cacheable) {
    std::shared_lock lock(cache_mutex_);
    const auto it = cache_.find(std::string(chunk));
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int> ids = bpe(chunk);
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) {
    std::unique_lock lock(cache_mutex_);
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_.emplace(std::string(chunk), std::move(ids));
  }
}

std::vector<int> Gpt2BpeTokenizer::encode(std::string_view text) const {
  std::vector<int> out;
  out.reserve(text.size() / 3 + 1);
  for (const std::string_view chunk : pre_tokenizer_.split(text)) append_bpe(chunk, out);
  return out;
}

void Gpt2BpeTokenizer::check_id(int id) const {
  if (id < 0 || id >= vocab_size() || !has_piece_[static_cast<size_t>(id)]) {
    throw Error("token id " + std::to_string(id) + " is out of range: the vocabulary has ids 0.." +
                std::to_string(vocab_size() - 1) + (id >= 0 && id < vocab_size() ? " but not this one" : ""));
  }
}

std::string Gpt2BpeTokenizer::decode(const std::vector<int>& ids) const {
  std::string text;
  for (const int id : ids) {
    check_id(id);
    text += id_bytes_[static_cast<size_t>(id)];
  }
  return text;
}

std::string Gpt2BpeTokenizer::id_to_piece(int id) const {
  check_id(id);
  return pieces_[static_cast<size_t>(id)];
}

std::optional<int> Gpt2BpeTokenizer::token_id(std::string_view piece) const {
  const auto it = piece_ids_.find(std::string(piece));
  if (it == piece_ids_.end()) return std::nullopt;
  return it->second;
}

// Hugging Face's layout: vocab.json one "piece": id per line in id order, merges.txt with a version line.
void Gpt2BpeTokenizer::save(const std::filesystem::path& dir) const {
  std::string vocab = "{";
  bool first = true;
  for (size_t id = 0; id < pieces_.size(); ++id) {
    if (!has_piece_[id]) continue;
    vocab += first ? "\n  " : ",\n  ";
    vocab += show(pieces_[id]) + ": " + std::to_string(id);
    first = false;
  }
  vocab += "\n}\n";
  std::string merges = "#version: 0.2\n";
  for (const auto& [left, right] : merges_) merges += left + " " + right + "\n";
  write_file_atomic(dir / "vocab.json", vocab);
  write_file_atomic(dir / "merges.txt", merges);
}

}  // namespace rlhf::tokenizer
