// A read-only ZIP reader for the archives torch.save writes: entries are STORED (uncompressed), so
// an entry's bytes can be used in place. Reads the end-of-central-directory record (with a trailing
// comment allowed), ZIP64 records and extra fields (checkpoints over 4 GB), the central directory
// and each entry's local header. Compressed or encrypted entries are listed but cannot be read.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "rlhf/formats/bytes.h"

namespace rlhf::formats {

struct ZipEntry {
  std::string name;
  std::uint16_t method = 0;          // 0 = stored; anything else is refused by ZipArchive::data
  std::uint16_t flags = 0;           // general-purpose bit flags (bit 0: encrypted)
  std::uint64_t size = 0;            // uncompressed size
  std::uint64_t compressed_size = 0;
  std::uint64_t local_header = 0;    // offset of the local file header
  std::uint64_t data_offset = 0;     // offset of the first data byte (from the local header)
};

class ZipArchive {
 public:
  // Throws Error naming `source` if the archive is truncated, inconsistent or multi-disk.
  static ZipArchive parse(const std::string& source, ByteSpan bytes);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& name) const;  // nullptr if absent
  // The bytes of a stored entry; throws for compressed or encrypted entries.
  ByteSpan data(const ZipEntry& entry) const;

 private:
  std::string source_;
  ByteSpan bytes_;
  std::vector<ZipEntry> entries_;
  std::map<std::string, std::size_t> index_;  // name -> position in entries_
};

}  // namespace rlhf::formats
