#include "src/fhir/json_util.h"

#include <cctype>
#include <cstddef>

namespace cipherchart::fhir::internal {

namespace {

bool Digits(std::string_view s, std::size_t pos, std::size_t count) {
  if (pos + count > s.size()) return false;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

}  // namespace

std::string Cat(std::initializer_list<std::string_view> parts) {
  std::size_t n = 0;
  for (std::string_view p : parts) n += p.size();
  std::string out;
  out.reserve(n);
  for (std::string_view p : parts) out.append(p);
  return out;
}

const Json* Member(const Json& value, std::string_view key) {
  if (!value.is_object()) return nullptr;
  const auto it = value.find(key);
  return it == value.end() ? nullptr : &*it;
}

std::string_view StringMember(const Json& value, std::string_view key) {
  const Json* m = Member(value, key);
  if (m == nullptr || !m->is_string()) return {};
  return m->get_ref<const std::string&>();
}

std::string ConceptLabel(const Json* cc) {
  if (cc == nullptr || !cc->is_object()) return {};
  if (const std::string_view text = StringMember(*cc, "text"); !text.empty()) return std::string(text);
  std::string display;
  std::string code;
  ForEachCoding(cc, [&](const Json& coding) {
    if (display.empty()) display = StringMember(coding, "display");
    if (code.empty()) code = StringMember(coding, "code");
  });
  return display.empty() ? code : display;
}

bool IsPartialOrFullDate(std::string_view s) {
  // YYYY-MM
  if (!Digits(s, 0, 4) || s.size() < 7 || s[4] != '-' || !Digits(s, 5, 2)) return false;
  if (s.size() == 7) return true;
  // -DD
  if (s[7] != '-' || !Digits(s, 8, 2)) return false;
  if (s.size() == 10) return true;
  // Thh:mm
  if (s[10] != 'T' || !Digits(s, 11, 2) || s.size() < 16 || s[13] != ':' || !Digits(s, 14, 2)) return false;
  std::size_t i = 16;
  if (i < s.size() && s[i] == ':') {
    if (!Digits(s, i + 1, 2)) return false;
    i += 3;
    if (i < s.size() && s[i] == '.') {
      ++i;
      const std::size_t start = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      if (i == start) return false;
    }
  }
  if (i == s.size()) return true;
  if (s[i] == 'Z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-') return false;
  return s.size() == i + 6 && Digits(s, i + 1, 2) && s[i + 3] == ':' && Digits(s, i + 4, 2);
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!IsHex(s[i])) {
      return false;
    }
  }
  return true;
}

std::string JoinPointer(std::string_view base, std::string_view token) {
  std::string out(base);
  out += '/';
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

}  // namespace cipherchart::fhir::internal
