// The policy language and the key attribute syntax (docs/policy.md): a hand-written
// recursive-descent parser working directly on the text (no separate token stream, because
// what a run of characters means depends on where it is: "2026" is a threshold count, a
// number or the start of a date), and the canonical printer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cipherchart/abe/policy.h"
#include "src/abe/policy_internal.h"

namespace cipherchart::abe {
namespace internal {

bool IsKeyword(std::string_view word) {
  auto equals = [&](std::string_view kw) {
    if (word.size() != kw.size()) return false;
    for (std::size_t i = 0; i < kw.size(); ++i) {
      const char c = word[i];
      const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      if (lower != kw[i]) return false;
    }
    return true;
  };
  return equals("and") || equals("or") || equals("of");
}

std::string CanonicalPart(std::string_view raw, bool is_value) {
  bool bare = !raw.empty() && !IsKeyword(raw);
  if (bare && !is_value) bare = IsNameStart(static_cast<unsigned char>(raw[0]));
  for (const char c : raw) {
    if (!bare) break;
    const int u = static_cast<unsigned char>(c);
    bare = is_value ? IsValueChar(u) : IsNameChar(u);
  }
  if (bare) return std::string(raw);
  std::string out;
  out.reserve(raw.size() + 2);
  out += '"';
  for (const char c : raw) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[month - 1];
}

std::uint64_t DaysFromCivil(int year, int month, int day) {
  // Whole years since 1970 (with their leap days), then the months and days of this year.
  auto leap_days_through = [](int y) { return y / 4 - y / 100 + y / 400; };
  std::uint64_t days = 365 * static_cast<std::uint64_t>(year - 1970) +
                       static_cast<std::uint64_t>(leap_days_through(year - 1) - leap_days_through(1969));
  for (int m = 1; m < month; ++m) days += static_cast<std::uint64_t>(DaysInMonth(year, m));
  return days + static_cast<std::uint64_t>(day - 1);
}

std::string FormatDate(std::uint64_t days) {
  int year = 1970 + static_cast<int>(days / 366);  // a lower bound; step up from it
  while (year < 9999 && DaysFromCivil(year + 1, 1, 1) <= days) ++year;
  std::uint64_t rest = days - DaysFromCivil(year, 1, 1);
  int month = 1;
  while (month < 12 && rest >= static_cast<std::uint64_t>(DaysInMonth(year, month))) {
    rest -= static_cast<std::uint64_t>(DaysInMonth(year, month));
    ++month;
  }
  const int day = static_cast<int>(rest) + 1;
  auto two = [](int v) { return std::string(v < 10 ? "0" : "") + std::to_string(v); };
  std::string y = std::to_string(year);
  y.insert(0, 4 - std::min<std::size_t>(4, y.size()), '0');
  return y + "-" + two(month) + "-" + two(day);
}

}  // namespace internal

namespace {

using internal::IsAsciiDigit;
using internal::IsNameStart;
using internal::IsSpace;
using internal::IsValueChar;
using Op = PolicyNode::Op;

constexpr int kEnd = -1;

// Length of a valid UTF-8 sequence at the start of `s` (lead byte >= 0x80), or 0 if invalid.
// C1 controls (U+0080..U+009F) and the bidirectional embedding / override / isolate controls
// (U+202A..U+202E, U+2066..U+2069) are rejected too: a policy must read as it is evaluated.
std::size_t Utf8SequenceLength(std::string_view s) {
  auto byte = [&](std::size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0u; };
  auto cont = [&](std::size_t i) { return (byte(i) & 0xC0u) == 0x80u; };
  const unsigned b0 = byte(0);
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (!cont(1)) return 0;
    if (b0 == 0xC2 && byte(1) <= 0x9F) return 0;  // C1 control
    return 2;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    const unsigned b1 = byte(1);
    if (!cont(1) || !cont(2)) return 0;
    if (b0 == 0xE0 && b1 < 0xA0) return 0;  // overlong
    if (b0 == 0xED && b1 > 0x9F) return 0;  // surrogates
    if (b0 == 0xE2) {
      const unsigned b2 = byte(2);
      if (b1 == 0x80 && b2 >= 0xAA && b2 <= 0xAE) return 0;  // U+202A..U+202E
      if (b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9) return 0;  // U+2066..U+2069
    }
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    const unsigned b1 = byte(1);
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (b0 == 0xF0 && b1 < 0x90) return 0;  // overlong
    if (b0 == 0xF4 && b1 > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

std::string HexByte(unsigned v) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[(v >> 4) & 0xF] + kHex[v & 0xF];
}

// Character-level reading shared by the policy parser and the key syntax parser. Errors say
// "<what>: column N: <message>", N counting characters (UTF-8 sequences) from 1.
class Scanner {
 public:
  Scanner(std::string_view text, std::string_view what) : s_(text), what_(what) {}

 protected:
  int Peek(std::size_t ahead = 0) const {
    return pos_ + ahead < s_.size() ? static_cast<unsigned char>(s_[pos_ + ahead]) : kEnd;
  }
  bool AtEnd() const { return pos_ >= s_.size(); }
  void SkipSpace() {
    while (!AtEnd() && IsSpace(Peek())) ++pos_;
  }

  std::size_t Column(std::size_t pos) const {
    std::size_t column = 1;
    for (std::size_t i = 0; i < pos && i < s_.size(); ++i) {
      if ((static_cast<unsigned char>(s_[i]) & 0xC0u) != 0x80u) ++column;
    }
    return column;
  }

  std::unexpected<Error> ErrorAt(std::size_t pos, const std::string& message) const {
    return Fail(ErrorCode::kInvalidArgument,
                std::string(what_) + ": column " + std::to_string(Column(pos)) + ": " + message);
  }

  // What is at `pos`, for "found ..." in messages.
  std::string Describe(std::size_t pos) const {
    if (pos >= s_.size()) return "end of " + std::string(what_);
    const auto c = static_cast<unsigned char>(s_[pos]);
    if (c >= 0x80) return "a non-ASCII character (names containing one must be quoted)";
    if (c < 0x20 || c == 0x7f) return "control character " + HexByte(c);
    // A whole keyword or bare word reads better than its first letter.
    std::size_t end = pos;
    while (end < s_.size() && end - pos < 24 && IsValueChar(static_cast<unsigned char>(s_[end]))) ++end;
    if (end > pos + 1) {
      const std::string_view word = s_.substr(pos, end - pos);
      return (internal::IsKeyword(word) ? "keyword '" : "'") + std::string(word) + "'";
    }
    return std::string("'") + static_cast<char>(c) + "'";
  }

  // Consumes a keyword (any case) after optional whitespace, if it is there as a whole word.
  bool MatchKeyword(std::string_view keyword) {
    SkipSpace();
    if (s_.size() - pos_ < keyword.size()) return false;
    for (std::size_t i = 0; i < keyword.size(); ++i) {
      int c = Peek(i);
      if (c >= 'A' && c <= 'Z') c = c - 'A' + 'a';
      if (c != keyword[i]) return false;
    }
    if (IsValueChar(Peek(keyword.size())) || Peek(keyword.size()) == '"') return false;
    pos_ += keyword.size();
    return true;
  }

  // The word (bare value characters) starting at pos_, without consuming it.
  std::string_view WordAt() const {
    std::size_t end = pos_;
    while (end < s_.size() && IsValueChar(static_cast<unsigned char>(s_[end]))) ++end;
    return s_.substr(pos_, end - pos_);
  }

  // '"' ... '"' with escapes \" and \\ only; non-empty valid UTF-8 without control characters.
  Result<std::string> ParseQuoted() {
    const std::size_t open = pos_;
    ++pos_;
    std::string out;
    for (;;) {
      if (AtEnd()) return ErrorAt(open, "unterminated quoted string (missing the closing '\"')");
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        break;
      }
      if (c == '\\') {
        const int next = Peek(1);
        if (next == '"' || next == '\\') {
          out += static_cast<char>(next);
          pos_ += 2;
          continue;
        }
        if (next == kEnd) return ErrorAt(open, "unterminated quoted string (missing the closing '\"')");
        return ErrorAt(pos_, "unknown escape in a quoted string (only \\\" and \\\\ are allowed)");
      }
      if (c < 0x20 || c == 0x7f)
        return ErrorAt(pos_, "control character " + HexByte(c) + " in a quoted string");
      if (c >= 0x80) {
        const std::size_t len = Utf8SequenceLength(s_.substr(pos_));
        if (len == 0) {
          return ErrorAt(pos_,
                         "invalid UTF-8, or a C1 or bidirectional control character, in a quoted string");
        }
        out.append(s_.substr(pos_, len));
        pos_ += len;
        continue;
      }
      out += static_cast<char>(c);
      ++pos_;
    }
    if (out.empty()) return ErrorAt(open, "empty quoted string");
    return out;
  }

  // A bare run of name (or value) characters; keywords must be quoted.
  Result<std::string> ParseBare(bool is_value) {
    const std::size_t start = pos_;
    while (!AtEnd() && (is_value ? IsValueChar(Peek()) : internal::IsNameChar(Peek()))) ++pos_;
    const std::string_view word = s_.substr(start, pos_ - start);
    if (internal::IsKeyword(word)) {
      return ErrorAt(start, "'" + std::string(word) + "' is a keyword: write \"" + std::string(word) +
                                "\" (quoted) to use it as a " + (is_value ? "value" : "name"));
    }
    return std::string(word);
  }

  // name = part { "." part }, canonical text.
  Result<std::string> ParseName() {
    std::string canonical;
    for (;;) {
      const int c = Peek();
      Result<std::string> part = std::string();
      if (c == '"') {
        part = ParseQuoted();
      } else if (IsNameStart(c)) {
        part = ParseBare(false);
      } else {
        return ErrorAt(pos_, "expected a name part (a letter, '_' or a quoted string) after '.', found " +
                                 Describe(pos_));
      }
      if (!part) return std::unexpected(part.error());
      canonical += internal::CanonicalPart(*part, false);
      if (Peek() != '.') return canonical;
      canonical += '.';
      ++pos_;
    }
  }

  // After ':': a bare value or a quoted string.
  Result<std::string> ParseValue() {
    const int c = Peek();
    Result<std::string> value = std::string();
    if (c == '"') {
      value = ParseQuoted();
    } else if (IsValueChar(c)) {
      value = ParseBare(true);
    } else {
      return ErrorAt(
          pos_, "expected a value after ':' (letters, digits, '_', '-', '.' or a quoted string), found " +
                    Describe(pos_));
    }
    if (!value) return std::unexpected(value.error());
    return internal::CanonicalPart(*value, true);
  }

  // A number 0 .. 2^32 - 1, or a date YYYY-MM-DD (1970-01-01 .. 9999-12-31) as days.
  struct Numeric {
    std::uint64_t value = 0;
    bool is_date = false;
  };
  Result<Numeric> ParseNumeric() {
    const std::size_t start = pos_;
    if (!IsAsciiDigit(Peek())) {
      return ErrorAt(pos_, "expected a number or a date (YYYY-MM-DD), found " + Describe(pos_));
    }
    std::size_t end = pos_;
    while (end < s_.size() && IsAsciiDigit(static_cast<unsigned char>(s_[end]))) ++end;
    const std::string_view digits = s_.substr(start, end - start);
    if (digits.size() == 4 && end < s_.size() && s_[end] == '-') return ParseDate();
    pos_ = end;
    std::uint64_t value = 0;
    for (const char d : digits) {
      value = value * 10 + static_cast<std::uint64_t>(d - '0');
      if (value > kMaxNumericValue) {
        return ErrorAt(start, "number out of range: numeric values are 0 .. " +
                                  std::to_string(kMaxNumericValue) + " (" + std::to_string(kNumericBits) +
                                  " bits)");
      }
    }
    return Numeric{value, false};
  }

  Result<Numeric> ParseDate() {
    const std::size_t start = pos_;
    const std::string_view shape = "dddd-dd-dd";
    for (std::size_t i = 0; i < shape.size(); ++i) {
      const int c = Peek(i);
      if (shape[i] == 'd' ? !IsAsciiDigit(c) : c != '-') {
        return ErrorAt(start, "expected a date of the form YYYY-MM-DD");
      }
    }
    if (IsAsciiDigit(Peek(shape.size()))) return ErrorAt(start, "expected a date of the form YYYY-MM-DD");
    auto number = [&](std::size_t from, std::size_t len) {
      int v = 0;
      for (std::size_t i = 0; i < len; ++i) v = v * 10 + (s_[start + from + i] - '0');
      return v;
    };
    const int year = number(0, 4), month = number(5, 2), day = number(8, 2);
    const std::string text(s_.substr(start, shape.size()));
    if (month < 1 || month > 12)
      return ErrorAt(start, "invalid date " + text + ": there is no month " + std::to_string(month));
    if (day < 1 || day > internal::DaysInMonth(year, month)) {
      return ErrorAt(start, "invalid date " + text + ": month " + std::to_string(month) + " of " +
                                std::to_string(year) + " has " +
                                std::to_string(internal::DaysInMonth(year, month)) + " days");
    }
    if (year < 1970) {
      return ErrorAt(start, "invalid date " + text +
                                ": dates before 1970-01-01 are not supported (dates are days since then)");
    }
    pos_ += shape.size();
    return Numeric{internal::DaysFromCivil(year, month, day), true};
  }

  std::string_view s_;
  std::string_view what_;
  std::size_t pos_ = 0;
};

// ---- the policy grammar ----

class PolicyParser : public Scanner {
 public:
  explicit PolicyParser(std::string_view text) : Scanner(text, "policy") {}

  Result<std::unique_ptr<PolicyNode>> Run() {
    if (s_.size() > kMaxPolicyBytes) {
      return Fail(ErrorCode::kInvalidArgument, "policy: " + std::to_string(s_.size()) +
                                                   " bytes is longer than the limit of " +
                                                   std::to_string(kMaxPolicyBytes));
    }
    SkipSpace();
    if (AtEnd()) return ErrorAt(pos_, "empty policy: expected an attribute, '(' or a threshold 'k of (...)'");
    auto root = ParseOr();
    if (!root) return std::unexpected(root.error());
    SkipSpace();
    if (!AtEnd()) return ErrorAt(pos_, "expected AND, OR or end of policy, found " + Describe(pos_));
    return std::move(root->node);
  }

 private:
  struct Parsed {
    std::unique_ptr<PolicyNode> node;
    int depth = 0;  // gates on the longest path down from this node
  };

  Result<Parsed> Gate(std::size_t start, int k, std::vector<Parsed> items) {
    auto node = std::make_unique<PolicyNode>();
    node->kind = PolicyNode::Kind::kThreshold;
    node->threshold = k;
    int depth = 0;
    for (auto& item : items) {
      depth = std::max(depth, item.depth);
      node->children.push_back(std::move(item.node));
    }
    if (depth + 1 > kMaxPolicyDepth) {
      return ErrorAt(start, "gates nested deeper than " + std::to_string(kMaxPolicyDepth) + " levels");
    }
    return Parsed{std::move(node), depth + 1};
  }

  // or_expr = and_expr { OR and_expr }
  Result<Parsed> ParseOr() {
    SkipSpace();
    const std::size_t start = pos_;
    auto first = ParseAnd();
    if (!first) return first;
    if (!MatchKeyword("or")) return first;
    std::vector<Parsed> items;
    items.push_back(std::move(*first));
    do {
      auto next = ParseAnd();
      if (!next) return next;
      items.push_back(std::move(*next));
    } while (MatchKeyword("or"));
    return Gate(start, 1, std::move(items));
  }

  // and_expr = primary { AND primary }
  Result<Parsed> ParseAnd() {
    SkipSpace();
    const std::size_t start = pos_;
    auto first = ParsePrimary();
    if (!first) return first;
    if (!MatchKeyword("and")) return first;
    std::vector<Parsed> items;
    items.push_back(std::move(*first));
    do {
      auto next = ParsePrimary();
      if (!next) return next;
      items.push_back(std::move(*next));
    } while (MatchKeyword("and"));
    const int n = static_cast<int>(items.size());
    return Gate(start, n, std::move(items));
  }

  Result<void> Open() {
    if (++paren_depth_ > kMaxPolicyDepth) {
      return ErrorAt(pos_, "parentheses nested deeper than " + std::to_string(kMaxPolicyDepth) + " levels");
    }
    ++pos_;
    return {};
  }

  // primary = "(" or_expr ")" | threshold | comparison | attribute
  Result<Parsed> ParsePrimary() {
    SkipSpace();
    const int c = Peek();
    if (c == '(') {
      if (auto ok = Open(); !ok) return std::unexpected(ok.error());
      auto inner = ParseOr();
      if (!inner) return inner;
      SkipSpace();
      if (Peek() != ')') return ErrorAt(pos_, "expected AND, OR or ')', found " + Describe(pos_));
      ++pos_;
      --paren_depth_;
      return inner;
    }
    if (IsAsciiDigit(c)) return ParseThreshold();
    if ((IsNameStart(c) && !internal::IsKeyword(WordAt())) || c == '"') return ParseLeaf();
    return ErrorAt(pos_, "expected an attribute, '(' or a threshold 'k of (...)', found " + Describe(pos_));
  }

  // threshold = count "of" "(" or_expr { "," or_expr } ")"
  Result<Parsed> ParseThreshold() {
    const std::size_t start = pos_;
    std::uint64_t k = 0;
    while (IsAsciiDigit(Peek())) {
      k = std::min<std::uint64_t>(k * 10 + static_cast<std::uint64_t>(Peek() - '0'), kMaxPolicyLeaves + 1);
      ++pos_;
    }
    if (!MatchKeyword("of")) {
      return ErrorAt(pos_, "expected 'of' after the threshold count, found " + Describe(pos_) +
                               " (names cannot start with a digit unless quoted)");
    }
    SkipSpace();
    if (Peek() != '(') return ErrorAt(pos_, "expected '(' after 'of', found " + Describe(pos_));
    if (auto ok = Open(); !ok) return std::unexpected(ok.error());
    std::vector<Parsed> items;
    for (;;) {
      auto item = ParseOr();
      if (!item) return item;
      items.push_back(std::move(*item));
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ')') {
        ++pos_;
        break;
      }
      return ErrorAt(pos_, "expected AND, OR, ',' or ')', found " + Describe(pos_));
    }
    --paren_depth_;
    const std::uint64_t n = items.size();
    const std::string what = "threshold " +
                             (k > kMaxPolicyLeaves ? std::string("count") : std::to_string(k)) + " of " +
                             std::to_string(n) + ": ";
    if (k == 0) return ErrorAt(start, what + "the count must be at least 1");
    if (k > n) return ErrorAt(start, what + "the count is larger than the number of items");
    if (!internal::ThresholdFits(k, n)) {
      return ErrorAt(start, what +
                                "too large to compile (its Vandermonde entries would exceed 2^62); at most " +
                                std::to_string(internal::MaxThresholdK(n)) + " of " + std::to_string(n) +
                                " (or " + std::to_string(n) + " of " + std::to_string(n) + ")");
    }
    return Gate(start, static_cast<int>(k), std::move(items));
  }

  Result<void> CountLeaf(std::size_t start, std::size_t rows) {
    if (++leaves_ > kMaxPolicyLeaves) {
      return ErrorAt(start, "the policy has more than " + std::to_string(kMaxPolicyLeaves) + " leaves");
    }
    rows_ += rows;
    if (rows_ > kMaxLsssRows) {
      return ErrorAt(start, "the policy expands to more than " + std::to_string(kMaxLsssRows) +
                                " LSSS rows (a comparison counts as up to " + std::to_string(kNumericBits) +
                                " bit attributes)");
    }
    return {};
  }

  static std::optional<Op> ComparisonOp(int c0, int c1, std::size_t* length) {
    *length = 2;
    if (c0 == '<' && c1 == '=') return Op::kLe;
    if (c0 == '>' && c1 == '=') return Op::kGe;
    if (c0 == '=' && c1 == '=') return Op::kEq;
    *length = 1;
    if (c0 == '<') return Op::kLt;
    if (c0 == '>') return Op::kGt;
    return std::nullopt;
  }

  // attribute = name [ ":" value ];  comparison = name op ( number | date )
  Result<Parsed> ParseLeaf() {
    const std::size_t start = pos_;
    auto name = ParseName();
    if (!name) return std::unexpected(name.error());
    auto node = std::make_unique<PolicyNode>();
    if (Peek() == ':') {
      ++pos_;
      auto value = ParseValue();
      if (!value) return std::unexpected(value.error());
      const std::size_t after = pos_;
      SkipSpace();
      if (Peek() == '<' || Peek() == '>' || Peek() == '=') {
        return ErrorAt(pos_, "a comparison needs a numeric attribute name without ':value'");
      }
      pos_ = after;
      node->attribute = *name + ":" + *value;
      if (auto ok = CountLeaf(start, 1); !ok) return std::unexpected(ok.error());
      return Parsed{std::move(node), 0};
    }
    const std::size_t after_name = pos_;
    SkipSpace();
    std::size_t op_length = 0;
    const auto op = ComparisonOp(Peek(), Peek(1), &op_length);
    if (!op) {
      if (Peek() == '=') return ErrorAt(pos_, "expected '==' to compare ('=' alone is the key syntax)");
      pos_ = after_name;
      node->attribute = std::move(*name);
      if (auto ok = CountLeaf(start, 1); !ok) return std::unexpected(ok.error());
      return Parsed{std::move(node), 0};
    }
    pos_ += op_length;
    SkipSpace();
    auto numeric = ParseNumeric();
    if (!numeric) return std::unexpected(numeric.error());
    if (internal::ComparisonNeverTrue(*op, numeric->value)) {
      return ErrorAt(start, "the comparison '" + *name + " " + std::string(internal::OpText(*op)) + " " +
                                std::to_string(numeric->value) + "' is never true");
    }
    node->kind = PolicyNode::Kind::kComparison;
    node->attribute = std::move(*name);
    node->op = *op;
    node->value = numeric->value;
    node->is_date = numeric->is_date;
    if (auto ok = CountLeaf(start, internal::ComparisonRows(*op, numeric->value)); !ok) {
      return std::unexpected(ok.error());
    }
    return Parsed{std::move(node), 0};
  }

  int paren_depth_ = 0;
  std::size_t leaves_ = 0;
  std::size_t rows_ = 0;
};

// ---- the key syntax ----

class AttributeSetParser : public Scanner {
 public:
  explicit AttributeSetParser(std::string_view text) : Scanner(text, "attribute set") {}

  Result<AttributeSet> Run() {
    if (s_.size() > kMaxPolicyBytes) {
      return Fail(ErrorCode::kInvalidArgument, "attribute set: " + std::to_string(s_.size()) +
                                                   " bytes is longer than the limit of " +
                                                   std::to_string(kMaxPolicyBytes));
    }
    AttributeSet set;
    SkipSpace();
    if (AtEnd()) return set;
    for (;;) {
      SkipSpace();
      const std::size_t start = pos_;
      const int c = Peek();
      if (!((IsNameStart(c) && !internal::IsKeyword(WordAt())) || c == '"')) {
        return ErrorAt(pos_, "expected an attribute name, found " + Describe(pos_));
      }
      auto name = ParseName();
      if (!name) return std::unexpected(name.error());
      if (Peek() == ':') {
        ++pos_;
        auto value = ParseValue();
        if (!value) return std::unexpected(value.error());
        std::string attribute = *name + ":" + *value;
        if (!set.attributes.insert(attribute).second) {
          return ErrorAt(start, "attribute " + attribute + " is listed twice");
        }
      } else {
        const std::size_t after_name = pos_;
        SkipSpace();
        if (Peek() == '=') {
          if (Peek(1) == '=')
            return ErrorAt(pos_, "expected '=' (a key gives a numeric value with a single '=')");
          ++pos_;
          SkipSpace();
          auto numeric = ParseNumeric();
          if (!numeric) return std::unexpected(numeric.error());
          if (!set.numeric.emplace(*name, numeric->value).second) {
            return ErrorAt(start, "numeric attribute " + *name + " is given twice");
          }
        } else {
          pos_ = after_name;
          if (!set.attributes.insert(*name).second)
            return ErrorAt(start, "attribute " + *name + " is listed twice");
        }
      }
      SkipSpace();
      if (AtEnd()) return set;
      if (Peek() != ',')
        return ErrorAt(pos_, "expected ',' or end of attribute set, found " + Describe(pos_));
      ++pos_;
    }
  }
};

// ---- one attribute on its own ----

class SingleAttributeParser : public Scanner {
 public:
  explicit SingleAttributeParser(std::string_view text) : Scanner(text, "attribute") {}

  Result<internal::ParsedAttribute> Run() {
    if (s_.size() > kMaxPolicyBytes) {
      return Fail(ErrorCode::kInvalidArgument,
                  "attribute: longer than " + std::to_string(kMaxPolicyBytes) + " bytes");
    }
    SkipSpace();
    const int c = Peek();
    if (!((IsNameStart(c) && !internal::IsKeyword(WordAt())) || c == '"')) {
      return ErrorAt(pos_, "expected an attribute name, found " + Describe(pos_));
    }
    auto name = ParseName();
    if (!name) return std::unexpected(name.error());
    internal::ParsedAttribute out;
    out.canonical = std::move(*name);
    if (Peek() == ':') {
      ++pos_;
      auto value = ParseValue();
      if (!value) return std::unexpected(value.error());
      out.canonical += ":" + *value;
      out.has_value = true;
    }
    SkipSpace();
    if (!AtEnd()) return ErrorAt(pos_, "expected end of attribute, found " + Describe(pos_));
    return out;
  }
};

// ---- canonical printing ----

void WritePolicy(const PolicyNode& node, bool nested, std::string& out) {
  switch (node.kind) {
    case PolicyNode::Kind::kAttribute:
      out += node.attribute;
      return;
    case PolicyNode::Kind::kComparison:
      out += node.attribute;
      out += ' ';
      out += internal::OpText(node.op);
      out += ' ';
      out += node.is_date && node.value <= internal::kMaxDateDays ? internal::FormatDate(node.value)
                                                                  : std::to_string(node.value);
      return;
    case PolicyNode::Kind::kThreshold:
      break;
  }
  const std::size_t n = node.children.size();
  const auto k = static_cast<std::size_t>(std::max(node.threshold, 0));
  if (n >= 2 && (k == n || k == 1)) {
    if (nested) out += '(';
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) out += k == n ? " AND " : " OR ";
      WritePolicy(*node.children[i], true, out);
    }
    if (nested) out += ')';
    return;
  }
  out += std::to_string(node.threshold);
  out += " of (";
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) out += ", ";
    WritePolicy(*node.children[i], false, out);
  }
  out += ')';
}

}  // namespace

namespace internal {

Result<ParsedAttribute> ParseSingleAttribute(std::string_view text) {
  return SingleAttributeParser(text).Run();
}

}  // namespace internal

Result<std::unique_ptr<PolicyNode>> ParsePolicy(std::string_view text) { return PolicyParser(text).Run(); }

Result<AttributeSet> ParseAttributeSet(std::string_view text) { return AttributeSetParser(text).Run(); }

Result<std::string> CanonicalAttribute(std::string_view text) {
  auto parsed = internal::ParseSingleAttribute(text);
  if (!parsed) return std::unexpected(parsed.error());
  return std::move(parsed->canonical);
}

std::string PolicyToString(const PolicyNode& node) {
  std::string out;
  WritePolicy(node, false, out);
  return out;
}

std::string AttributeSetToString(const AttributeSet& set) {
  std::string out;
  for (const auto& a : set.attributes) {
    if (!out.empty()) out += ", ";
    out += a;
  }
  for (const auto& [name, value] : set.numeric) {
    if (!out.empty()) out += ", ";
    out += name + "=" + std::to_string(value);
  }
  return out;
}

}  // namespace cipherchart::abe
