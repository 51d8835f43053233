#include "cipherchart/protocol/ids.h"

#include <array>
#include <cctype>
#include <vector>

#include "cipherchart/common/hex.h"
#include "cipherchart/common/random.h"

namespace cipherchart::protocol {
namespace {

char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
char Upper(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }

Result<std::string> RandomBase32(char prefix, std::size_t chars) {
  std::vector<std::uint8_t> bytes(chars);
  if (auto ok = FillRandom(bytes); !ok) return std::unexpected(ok.error());
  std::string out(1, prefix);
  for (std::uint8_t b : bytes) out.push_back(Lower(kCrockford[b & 31]));
  return out;
}

bool IsLowerBase32Id(std::string_view id, char prefix) {
  if (id.size() != 27 || id[0] != prefix) return false;
  for (char c : id.substr(1)) {
    if (c != Lower(c) || kCrockford.find(Upper(c)) == std::string_view::npos) return false;
  }
  return true;
}

Result<std::string> RandomHexId(std::string_view prefix) {
  std::array<std::uint8_t, 12> r{};
  if (auto ok = FillRandom(r); !ok) return std::unexpected(ok.error());
  return std::string(prefix) + ToHex(r);
}

bool IsHexId(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 24 || !id.starts_with(prefix)) return false;
  for (char c : id.substr(prefix.size()))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

Result<std::string> NewUserId() { return RandomBase32('u', 26); }
Result<std::string> NewPackageId() { return RandomBase32('k', 26); }
bool IsValidUserId(std::string_view id) { return IsLowerBase32Id(id, 'u'); }
bool IsValidPackageId(std::string_view id) { return IsLowerBase32Id(id, 'k'); }

Result<std::string> NewPatientId() {
  std::array<std::uint8_t, 10> bytes{};
  if (auto ok = FillRandom(bytes); !ok) return std::unexpected(ok.error());
  std::string out;
  unsigned check = 0;  // the 80-bit value mod 37, accumulated digit by digit
  std::uint32_t acc = 0;
  int bits = 0, digits = 0;
  for (std::uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      const unsigned d = (acc >> bits) & 31;
      check = (check * 32 + d) % 37;
      if (digits > 0 && digits % 4 == 0) out.push_back('-');
      out.push_back(kCrockford[d]);
      ++digits;
    }
  }
  out.push_back('-');
  out.push_back(kCrockfordCheck[check]);
  return out;
}

bool IsValidPatientId(std::string_view id) {
  if (id.size() != 21) return false;
  unsigned check = 0;
  for (std::size_t i = 0; i < 19; ++i) {
    if (i % 5 == 4) {
      if (id[i] != '-') return false;
      continue;
    }
    const auto d = kCrockford.find(id[i]);
    if (d == std::string_view::npos) return false;
    check = (check * 32 + static_cast<unsigned>(d)) % 37;
  }
  return id[19] == '-' && id[20] == kCrockfordCheck[check];
}

std::string PatientNamespace(std::string_view patient_id) {
  std::string ns = "patient_";
  const auto last_dash = patient_id.rfind('-');
  const std::string_view body =
      last_dash == std::string_view::npos ? patient_id : patient_id.substr(0, last_dash);
  for (char c : body) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) continue;
    ns.push_back(Lower(c));
  }
  return ns;
}

bool IsValidRecordId(std::string_view id) {
  if (id.empty() || id.size() > 64 || id == "." || id == "..") return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

RecordKind KindOf(std::string_view id) {
  if (id == kOwnerDirectoryRecord) return RecordKind::kOwnerDirectory;
  if (id == kOwnerAuthorityRecord) return RecordKind::kOwnerAuthority;
  if (IsHexId(id, kEntryPrefix)) return RecordKind::kEntry;
  if (IsHexId(id, kAttachmentPrefix)) return RecordKind::kAttachment;
  if (id.starts_with(kSectionKeyPrefix) && IsValidRecordId(id)) return RecordKind::kSectionKey;
  return RecordKind::kOther;
}

Result<std::string> NewEntryId() { return RandomHexId(kEntryPrefix); }
Result<std::string> NewAttachmentId() { return RandomHexId(kAttachmentPrefix); }

std::string SectionKeyRecordId(std::string_view section, unsigned n) {
  return std::string(kSectionKeyPrefix) + std::string(section) + "." + std::to_string(n);
}

Result<std::string> NewEnrolmentCode() {
  std::array<std::uint8_t, 20> r{};
  if (auto ok = FillRandom(r); !ok) return std::unexpected(ok.error());
  std::string code;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (i != 0 && i % 5 == 0) code.push_back('-');
    code.push_back(kCrockford[r[i] & 31]);
  }
  r.fill(0);
  return code;
}

std::string NormaliseEnrolmentCode(std::string_view typed) {
  std::string code;
  code.reserve(typed.size());
  for (char c : typed) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0) continue;
    c = Upper(c);
    if (c == 'O') c = '0';
    if (c == 'I' || c == 'L') c = '1';
    code.push_back(c);
  }
  return code;
}

}  // namespace cipherchart::protocol
