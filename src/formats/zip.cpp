// ZIP layout (APPNOTE.TXT): entries, each a local header plus data; then the central directory,
// one record per entry; then the end-of-central-directory (EOCD) record, preceded for ZIP64
// archives by a ZIP64 EOCD record and its locator. torch.save sets "data descriptor" flag bit 3,
// so local headers carry zero sizes: sizes come from the central directory only.
#include "rlhf/formats/zip.h"

#include "rlhf/util/error.h"

namespace rlhf::formats {
namespace {

constexpr std::uint32_t kLocalHeaderSig = 0x04034b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kEocdSig = 0x06054b50;
constexpr std::uint32_t kZip64EocdSig = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;
constexpr std::size_t kEocdSize = 22;
constexpr std::size_t kZip64LocatorSize = 20;
constexpr std::size_t kZip64EocdSize = 56;
constexpr std::size_t kCentralSize = 46;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::uint32_t kMax32 = 0xffffffff;

struct Directory {
  std::uint64_t entries = 0;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;
};

class Parser {
 public:
  Parser(const std::string& source, ByteSpan bytes) : source_(source), bytes_(bytes) {}

  std::vector<ZipEntry> parse() {
    const std::size_t eocd = find_eocd();
    Directory dir = read_eocd(eocd);
    read_zip64(eocd, dir);
    return read_central_directory(dir);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw_file_error(source_, "zip archive: " + what); }

  const std::uint8_t* at(std::uint64_t offset, std::uint64_t length, const char* what) const {
    if (!fits(offset, length, bytes_.size)) {
      fail(std::string(what) + " at offset " + std::to_string(offset) + " runs past the end of the file (" +
           std::to_string(bytes_.size) + " bytes; truncated?)");
    }
    return bytes_.data + offset;
  }

  // The EOCD is the last record, followed only by a comment of up to 65535 bytes, so its signature
  // is searched backwards over that window; the comment length must then reach the end exactly
  // (this rejects a signature that merely appears inside the comment).
  std::size_t find_eocd() const {
    if (bytes_.size < kEocdSize) fail("file is too short to hold an end-of-central-directory record (truncated?)");
    const std::size_t last = bytes_.size - kEocdSize;
    const std::size_t first = last > 0xffff ? last - 0xffff : 0;
    for (std::size_t pos = last + 1; pos-- > first;) {
      const std::uint8_t* p = bytes_.data + pos;
      if (load_u32(p) == kEocdSig && pos + kEocdSize + load_u16(p + 20) == bytes_.size) return pos;
    }
    fail("no end-of-central-directory record found (truncated download?)");
  }

  Directory read_eocd(std::size_t eocd) const {
    const std::uint8_t* p = bytes_.data + eocd;
    if (load_u16(p + 4) != 0 || load_u16(p + 6) != 0) fail("multi-disk archives are not supported");
    return {load_u16(p + 10), load_u32(p + 12), load_u32(p + 16)};
  }

  // A ZIP64 locator right before the EOCD points at the ZIP64 EOCD record, whose 64-bit counts
  // replace the saturated 16/32-bit ones. torch.save always writes it.
  void read_zip64(std::size_t eocd, Directory& dir) const {
    if (eocd < kZip64LocatorSize) return;
    const std::uint8_t* locator = bytes_.data + eocd - kZip64LocatorSize;
    if (load_u32(locator) != kZip64LocatorSig) return;
    const std::uint64_t record_offset = load_u64(locator + 8);
    const std::uint8_t* record = at(record_offset, kZip64EocdSize, "ZIP64 end-of-central-directory record");
    if (load_u32(record) != kZip64EocdSig) fail("bad ZIP64 end-of-central-directory signature");
    if (load_u32(record + 16) != 0 || load_u32(record + 20) != 0) fail("multi-disk archives are not supported");
    dir.entries = load_u64(record + 32);
    dir.size = load_u64(record + 40);
    dir.offset = load_u64(record + 48);
  }

  std::vector<ZipEntry> read_central_directory(const Directory& dir) const {
    const std::uint8_t* base = at(dir.offset, dir.size, "central directory");
    // Each record is at least 46 bytes, which bounds the count before anything is reserved.
    if (dir.entries > dir.size / kCentralSize) {
      fail("central directory claims " + std::to_string(dir.entries) + " entries in " + std::to_string(dir.size) +
           " bytes");
    }
    std::vector<ZipEntry> entries;
    entries.reserve(dir.entries);
    std::uint64_t pos = 0;
    for (std::uint64_t i = 0; i < dir.entries; ++i) {
      entries.push_back(read_central_record(base, dir.size, pos, dir.offset));
      locate_data(entries.back());
    }
    return entries;
  }

  ZipEntry read_central_record(const std::uint8_t* base, std::uint64_t size, std::uint64_t& pos,
                               std::uint64_t dir_offset) const {
    if (!fits(pos, kCentralSize, size)) fail("central directory is truncated");
    const std::uint8_t* p = base + pos;
    if (load_u32(p) != kCentralSig) fail("bad central directory signature at offset " + std::to_string(dir_offset + pos));
    const std::uint16_t name_length = load_u16(p + 28);
    const std::uint16_t extra_length = load_u16(p + 30);
    const std::uint16_t comment_length = load_u16(p + 32);
    const std::uint64_t record_size = kCentralSize + name_length + extra_length + comment_length;
    if (!fits(pos, record_size, size)) fail("central directory is truncated");
    ZipEntry entry;
    entry.flags = load_u16(p + 8);
    entry.method = load_u16(p + 10);
    entry.compressed_size = load_u32(p + 20);
    entry.size = load_u32(p + 24);
    entry.local_header = load_u32(p + 42);
    entry.name.assign(reinterpret_cast<const char*>(p + kCentralSize), name_length);
    apply_zip64_extra(entry, load_u16(p + 34), ByteSpan{p + kCentralSize + name_length, extra_length});
    pos += record_size;
    return entry;
  }

  // ZIP64 extra field (id 1): 64-bit values for exactly those of uncompressed size, compressed size,
  // local header offset and start disk whose 32/16-bit fields are saturated, in that order.
  void apply_zip64_extra(ZipEntry& entry, std::uint16_t disk, ByteSpan extra) const {
    std::uint64_t* const wanted[] = {entry.size == kMax32 ? &entry.size : nullptr,
                                     entry.compressed_size == kMax32 ? &entry.compressed_size : nullptr,
                                     entry.local_header == kMax32 ? &entry.local_header : nullptr};
    bool need = disk == 0xffff;
    for (auto* field : wanted) need = need || field != nullptr;
    if (!need) return;
    for (std::size_t pos = 0; pos + 4 <= extra.size;) {
      const std::uint16_t id = load_u16(extra.data + pos);
      const std::uint16_t length = load_u16(extra.data + pos + 2);
      if (!fits(pos + 4, length, extra.size)) break;
      if (id == 1) {
        read_zip64_fields(entry, wanted, ByteSpan{extra.data + pos + 4, length});
        return;
      }
      pos += 4 + length;
    }
    fail("entry '" + entry.name + "' has saturated 32-bit fields but no ZIP64 extra field");
  }

  void read_zip64_fields(const ZipEntry& entry, std::uint64_t* const (&wanted)[3], ByteSpan field) const {
    std::size_t pos = 0;
    for (auto* target : wanted) {
      if (target == nullptr) continue;
      if (pos + 8 > field.size) fail("entry '" + entry.name + "': ZIP64 extra field is too short");
      *target = load_u64(field.data + pos);
      pos += 8;
    }
  }

  // Data starts after the local header, whose name and extra lengths may differ from the central
  // record's (torch pads the local extra field so that data is 64-byte aligned).
  void locate_data(ZipEntry& entry) const {
    const std::uint8_t* p = at(entry.local_header, kLocalHeaderSize, "local header");
    if (load_u32(p) != kLocalHeaderSig) fail("entry '" + entry.name + "': bad local header signature");
    const std::uint16_t name_length = load_u16(p + 26);
    const std::uint16_t extra_length = load_u16(p + 28);
    const char* name = reinterpret_cast<const char*>(at(entry.local_header + kLocalHeaderSize, name_length, "local header"));
    if (std::string(name, name_length) != entry.name) {
      fail("entry '" + entry.name + "': the local header names '" + std::string(name, name_length) + "'");
    }
    entry.data_offset = entry.local_header + kLocalHeaderSize + name_length + extra_length;
    at(entry.data_offset, entry.compressed_size, ("data of entry '" + entry.name + "'").c_str());
  }

  const std::string& source_;
  ByteSpan bytes_;
};

}  // namespace

ZipArchive ZipArchive::parse(const std::string& source, ByteSpan bytes) {
  ZipArchive archive;
  archive.source_ = source;
  archive.bytes_ = bytes;
  archive.entries_ = Parser(source, bytes).parse();
  for (std::size_t i = 0; i < archive.entries_.size(); ++i) {
    const std::string& name = archive.entries_[i].name;
    if (!archive.index_.emplace(name, i).second) {
      throw_file_error(source, "zip archive: entry '" + name + "' appears twice");
    }
  }
  return archive;
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

ByteSpan ZipArchive::data(const ZipEntry& entry) const {
  if (entry.flags & 1) throw_file_error(source_, "zip archive: entry '" + entry.name + "' is encrypted");
  if (entry.method != 0) {
    throw_file_error(source_, "zip archive: entry '" + entry.name + "' is compressed (method " +
                                  std::to_string(entry.method) +
                                  "); torch.save stores entries uncompressed, so re-save it with torch.save");
  }
  if (entry.size != entry.compressed_size) {
    throw_file_error(source_, "zip archive: stored entry '" + entry.name + "' has different sizes (" +
                                  std::to_string(entry.size) + " and " + std::to_string(entry.compressed_size) + ")");
  }
  return bytes_.sub(entry.data_offset, entry.size);  // locate_data checked the bounds
}

}  // namespace rlhf::formats
