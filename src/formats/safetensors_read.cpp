// Reading safetensors: every field of the header is validated before any view is made, and the
// tensors must tile the data buffer exactly, as the reference implementation requires.
#include <algorithm>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "rlhf/formats/safetensors.h"
#include "rlhf/formats/shapes.h"
#include "rlhf/util/error.h"

namespace rlhf::formats {
namespace {

using nlohmann::json;

struct HeaderEntry {
  std::string name;
  DType dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

// A JSON value for an error message. json::dump recurses, so values nested deeper than a flat
// list are described rather than printed: a hostile header could nest them millions deep.
std::string show(const json& value) {
  bool flat = value.is_primitive();
  if (value.is_array()) {
    flat = true;
    for (const auto& item : value) flat = flat && item.is_primitive();
  }
  if (!flat) return value.is_array() ? "a nested list" : "an object";
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() <= 80 ? text : text.substr(0, 77) + "...";
}

// nlohmann::json keeps objects in a std::map, which loses the file order and silently keeps the
// last of duplicated keys; the parse callback sees the top-level keys in order, so it records them.
json parse_header_json(const std::string& source, ByteSpan text, std::vector<std::string>& keys) {
  std::set<std::string> seen;
  auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1) {
      std::string key = parsed.get<std::string>();
      if (!seen.insert(key).second) throw_file_error(source, "header lists '" + key + "' twice");
      keys.push_back(std::move(key));
    }
    return true;
  };
  try {
    json header = json::parse(text.data, text.data + text.size, on_event);
    if (!header.is_object()) throw_file_error(source, "header is JSON but not an object");
    return header;
  } catch (const json::exception& e) {
    throw_file_error(source, std::string("header is not valid JSON: ") + e.what());
  }
}

std::map<std::string, std::string> parse_metadata(const std::string& source, const json& value) {
  std::map<std::string, std::string> metadata;
  if (value.is_null()) return metadata;  // the reference reader accepts null for "no metadata"
  if (!value.is_object()) throw_file_error(source, "__metadata__ must be an object of strings, got " + show(value));
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      throw_file_error(source, "__metadata__ value for '" + key + "' is not a string: " + show(item));
    }
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

[[noreturn]] void tensor_error(const std::string& source, const std::string& name, const std::string& what) {
  throw_file_error(source, "tensor '" + name + "': " + what);
}

DType parse_dtype(const std::string& source, const std::string& name, const json& entry) {
  auto it = entry.find("dtype");
  if (it == entry.end()) tensor_error(source, name, "missing field \"dtype\"");
  if (!it->is_string()) tensor_error(source, name, "\"dtype\" must be a string, got " + show(*it));
  const auto text = it->get<std::string>();
  const auto dtype = dtype_from_name(text);
  if (!dtype) {
    tensor_error(source, name,
                 "unknown dtype '" + text + "' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
  }
  return *dtype;
}

std::vector<std::int64_t> parse_shape(const std::string& source, const std::string& name, const json& entry) {
  auto it = entry.find("shape");
  if (it == entry.end()) tensor_error(source, name, "missing field \"shape\"");
  if (!it->is_array()) tensor_error(source, name, "\"shape\" must be a list of non-negative integers, got " + show(*it));
  std::vector<std::int64_t> shape;
  for (const auto& dim : *it) {
    if (!dim.is_number_unsigned() || dim.get<std::uint64_t>() > std::numeric_limits<std::int64_t>::max()) {
      tensor_error(source, name, "\"shape\" must be a list of non-negative integers, got " + show(*it));
    }
    shape.push_back(dim.get<std::int64_t>());
  }
  return shape;
}

std::pair<std::uint64_t, std::uint64_t> parse_offsets(const std::string& source, const std::string& name,
                                                      const json& entry) {
  auto it = entry.find("data_offsets");
  if (it == entry.end()) tensor_error(source, name, "missing field \"data_offsets\"");
  if (!it->is_array() || it->size() != 2 || !(*it)[0].is_number_unsigned() || !(*it)[1].is_number_unsigned()) {
    tensor_error(source, name, "\"data_offsets\" must be two non-negative integers [begin, end], got " + show(*it));
  }
  const auto begin = (*it)[0].get<std::uint64_t>();
  const auto end = (*it)[1].get<std::uint64_t>();
  if (begin > end) {
    tensor_error(source, name, "data_offsets begin " + std::to_string(begin) + " is after end " + std::to_string(end));
  }
  return {begin, end};
}

HeaderEntry parse_entry(const std::string& source, const std::string& name, const json& entry,
                        std::uint64_t buffer_size) {
  if (!entry.is_object()) tensor_error(source, name, "entry must be an object, got " + show(entry));
  HeaderEntry out{name, parse_dtype(source, name, entry), parse_shape(source, name, entry)};
  std::tie(out.begin, out.end) = parse_offsets(source, name, entry);
  if (out.end > buffer_size) {
    tensor_error(source, name, "data_offsets [" + std::to_string(out.begin) + ", " + std::to_string(out.end) +
                                   "] go past the end of the data buffer (" + std::to_string(buffer_size) + " bytes)");
  }
  const std::uint64_t expected = checked_nbytes(source, name, out.shape, out.dtype);
  if (out.end - out.begin != expected) {
    tensor_error(source, name, "holds " + std::to_string(out.end - out.begin) + " bytes, but shape " +
                                   shape_to_string(out.shape) + " of " + dtype_name(out.dtype) + " needs " +
                                   std::to_string(expected));
  }
  return out;
}

// The spec requires the tensors to cover the data buffer exactly: no overlaps, no holes.
void check_coverage(const std::string& source, std::vector<const HeaderEntry*> entries, std::uint64_t buffer_size) {
  std::sort(entries.begin(), entries.end(), [](const HeaderEntry* a, const HeaderEntry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  std::uint64_t covered = 0;
  const HeaderEntry* previous = nullptr;
  for (const HeaderEntry* entry : entries) {
    if (entry->begin < covered) {
      throw_file_error(source, "tensors '" + previous->name + "' and '" + entry->name + "' overlap (bytes [" +
                                   std::to_string(previous->begin) + ", " + std::to_string(previous->end) + ") and [" +
                                   std::to_string(entry->begin) + ", " + std::to_string(entry->end) + "))");
    }
    if (entry->begin > covered) {
      throw_file_error(source, "bytes [" + std::to_string(covered) + ", " + std::to_string(entry->begin) +
                                   ") of the data buffer belong to no tensor (the format forbids holes)");
    }
    covered = entry->end;
    previous = entry;
  }
  if (covered != buffer_size) {
    throw_file_error(source, "the data buffer has " + std::to_string(buffer_size) + " bytes but the tensors cover only " +
                                 std::to_string(covered) + " (trailing bytes or a wrong header)");
  }
}

TensorView make_view(const HeaderEntry& entry, const std::uint8_t* buffer) {
  TensorView view{entry.name, entry.dtype, entry.shape, contiguous_strides(entry.shape), buffer + entry.begin,
                  static_cast<std::size_t>(entry.end - entry.begin)};
  return view;
}

}  // namespace

TensorFileContents parse_safetensors(const std::string& source, ByteSpan bytes) {
  if (bytes.size < 8) {
    throw_file_error(source, "file is " + std::to_string(bytes.size) +
                                 " bytes, shorter than the 8-byte safetensors header length");
  }
  const std::uint64_t header_size = load_u64(bytes.data);
  if (header_size > kMaxSafetensorsHeader) {
    throw_file_error(source, "header length " + std::to_string(header_size) + " is absurdly large (limit " +
                                 std::to_string(kMaxSafetensorsHeader) + " bytes): the file is corrupt or not safetensors");
  }
  if (!fits(8, header_size, bytes.size)) {
    throw_file_error(source, "header length " + std::to_string(header_size) + " goes past the end of the file (" +
                                 std::to_string(bytes.size) + " bytes; truncated download?)");
  }
  std::vector<std::string> keys;
  const json header = parse_header_json(source, bytes.sub(8, header_size), keys);
  const ByteSpan buffer = bytes.sub(8 + header_size, bytes.size - 8 - header_size);

  TensorFileContents contents;
  contents.format = "safetensors";
  std::vector<HeaderEntry> entries;
  entries.reserve(keys.size());
  for (const auto& key : keys) {
    const json& value = header.at(key);
    if (key == "__metadata__") {
      contents.metadata = parse_metadata(source, value);
    } else {
      entries.push_back(parse_entry(source, key, value, buffer.size));
    }
  }
  std::vector<const HeaderEntry*> pointers;
  for (const auto& entry : entries) pointers.push_back(&entry);
  check_coverage(source, pointers, buffer.size);
  for (const auto& entry : entries) contents.tensors.push_back(make_view(entry, buffer.data));
  return contents;
}

}  // namespace rlhf::formats
