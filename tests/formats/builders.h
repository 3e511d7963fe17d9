// Test-only builders for the formats: raw safetensors bytes from a header string, ZIP archives
// laid out like torch.save's (optionally with ZIP64 extras, a comment, a compressed entry), and
// pickles written opcode by opcode. They let tests make exactly the corruption they want.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace rlhf::formats::testing {

inline void put_u16(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 2; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
inline void put_u32(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
inline void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

inline std::vector<std::uint8_t> to_bytes(const std::string& s) { return {s.begin(), s.end()}; }

// u64 length + header (unpadded, as given) + `data`.
inline std::vector<std::uint8_t> safetensors_bytes(const std::string& header, const std::string& data) {
  std::string out;
  put_u64(out, header.size());
  return to_bytes(out + header + data);
}

struct ZipItem {
  std::string name;
  std::string data;
  std::uint16_t method = 0;  // 0 stored, 8 deflate (the data is left as is)
};

struct ZipOptions {
  bool zip64_extra = false;  // saturate sizes/offsets in the central directory, give them in ZIP64 extras
  bool zip64_eocd = true;    // write the ZIP64 end record and locator, as torch.save does
  std::string comment;
  std::size_t local_padding = 0;  // bytes of local extra field (torch aligns data to 64 bytes)
};

inline std::string build_zip(const std::vector<ZipItem>& items, const ZipOptions& options = {}) {
  std::string out;
  std::vector<std::uint64_t> offsets;
  for (const auto& item : items) {
    offsets.push_back(out.size());
    put_u32(out, 0x04034b50);
    put_u16(out, 20);
    put_u16(out, 0);  // flags
    put_u16(out, item.method);
    put_u32(out, 0);  // time, date
    put_u32(out, 0);  // crc (not checked by the reader)
    put_u32(out, item.data.size());
    put_u32(out, item.data.size());
    put_u16(out, item.name.size());
    put_u16(out, options.local_padding);
    out += item.name + std::string(options.local_padding, 'Z') + item.data;
  }
  const std::uint64_t cd_offset = out.size();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    std::string extra;
    if (options.zip64_extra) {
      put_u16(extra, 1);
      put_u16(extra, 24);
      put_u64(extra, item.data.size());
      put_u64(extra, item.data.size());
      put_u64(extra, offsets[i]);
    }
    const std::uint64_t sat = 0xffffffff;
    put_u32(out, 0x02014b50);
    put_u16(out, 45);
    put_u16(out, 45);
    put_u16(out, 0);
    put_u16(out, item.method);
    put_u32(out, 0);
    put_u32(out, 0);
    put_u32(out, options.zip64_extra ? sat : item.data.size());
    put_u32(out, options.zip64_extra ? sat : item.data.size());
    put_u16(out, item.name.size());
    put_u16(out, extra.size());
    put_u16(out, 0);  // comment
    put_u16(out, 0);  // disk
    put_u16(out, 0);  // internal attributes
    put_u32(out, 0);  // external attributes
    put_u32(out, options.zip64_extra ? sat : offsets[i]);
    out += item.name + extra;
  }
  const std::uint64_t cd_size = out.size() - cd_offset;
  if (options.zip64_eocd) {
    const std::uint64_t record = out.size();
    put_u32(out, 0x06064b50);
    put_u64(out, 44);
    put_u16(out, 45);
    put_u16(out, 45);
    put_u32(out, 0);
    put_u32(out, 0);
    put_u64(out, items.size());
    put_u64(out, items.size());
    put_u64(out, cd_size);
    put_u64(out, cd_offset);
    put_u32(out, 0x07064b50);
    put_u32(out, 0);
    put_u64(out, record);
    put_u32(out, 1);
  }
  put_u32(out, 0x06054b50);
  put_u16(out, 0);
  put_u16(out, 0);
  put_u16(out, items.size());
  put_u16(out, items.size());
  put_u32(out, cd_size);
  put_u32(out, cd_offset);
  put_u16(out, options.comment.size());
  return out + options.comment;
}

// Emits pickle opcodes (protocol 2 unless noted).
class PickleWriter {
 public:
  PickleWriter& proto(int version = 2) { return op(0x80).byte(version); }
  PickleWriter& global(const std::string& module, const std::string& name) {
    out_ += 'c' + module + '\n' + name + '\n';
    return *this;
  }
  PickleWriter& str(const std::string& s) {
    op('X');
    put_u32(out_, s.size());
    out_ += s;
    return *this;
  }
  PickleWriter& integer(std::int32_t v) {
    op('J');
    put_u32(out_, static_cast<std::uint32_t>(v));
    return *this;
  }
  PickleWriter& mark() { return op('('); }
  PickleWriter& tuple() { return op('t'); }
  PickleWriter& empty_tuple() { return op(')'); }
  PickleWriter& empty_dict() { return op('}'); }
  PickleWriter& empty_list() { return op(']'); }
  PickleWriter& reduce() { return op('R'); }
  PickleWriter& build() { return op('b'); }
  PickleWriter& persid() { return op('Q'); }
  PickleWriter& setitem() { return op('s'); }
  PickleWriter& setitems() { return op('u'); }
  PickleWriter& boolean(bool v) { return op(v ? 0x88 : 0x89); }
  PickleWriter& none() { return op('N'); }
  PickleWriter& put(int index) { return op('q').byte(index); }
  PickleWriter& get(int index) { return op('h').byte(index); }
  PickleWriter& stop() { return op('.'); }
  PickleWriter& op(int code) { return byte(code); }
  PickleWriter& byte(int value) {
    out_ += static_cast<char>(value);
    return *this;
  }
  PickleWriter& raw(const std::string& bytes) {
    out_ += bytes;
    return *this;
  }
  PickleWriter& ints(const std::vector<std::int64_t>& values) {  // a tuple of ints
    mark();
    for (auto v : values) integer(static_cast<std::int32_t>(v));
    return tuple();
  }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

struct FakeTensor {
  std::string name;
  std::string storage_type = "FloatStorage";
  std::string key = "0";
  std::int64_t numel = 1;
  std::int64_t offset = 0;
  std::vector<std::int64_t> shape{1};
  std::vector<std::int64_t> stride{1};
};

// Pushes a _rebuild_tensor_v2 call for `t` on the pickle stack.
inline void write_tensor(PickleWriter& w, const FakeTensor& t) {
  w.global("torch._utils", "_rebuild_tensor_v2").mark();
  w.mark().str("storage").global("torch", t.storage_type).str(t.key).str("cpu").integer(t.numel).tuple().persid();
  w.integer(t.offset).ints(t.shape).ints(t.stride).boolean(false);
  w.global("collections", "OrderedDict").empty_tuple().reduce();
  w.tuple().reduce();
}

// A torch.save-like state dict pickle: {name: tensor, ...}.
inline std::string state_dict_pickle(const std::vector<FakeTensor>& tensors) {
  PickleWriter w;
  w.proto().empty_dict().mark();
  for (const auto& t : tensors) {
    w.str(t.name);
    write_tensor(w, t);
  }
  return w.setitems().stop().str();
}

// An archive with <prefix>/data.pkl, <prefix>/data/<key> for each storage, and <prefix>/version.
inline std::string torch_zip(const std::string& pickle, const std::map<std::string, std::string>& storages,
                             const std::string& prefix = "archive", const ZipOptions& options = {}) {
  std::vector<ZipItem> items{{prefix + "/data.pkl", pickle}};
  for (const auto& [key, data] : storages) items.push_back({prefix + "/data/" + key, data});
  items.push_back({prefix + "/version", "3\n"});
  return build_zip(items, options);
}

}  // namespace rlhf::formats::testing
