// The policy language: parsing of every construct, canonical text and its round trip, error
// positions, limits, validation of hand-built ASTs, the key syntax and direct evaluation.
#include "cipherchart/abe/policy.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "src/abe/policy_internal.h"
#include "src/abe/policy_test_util.h"

namespace cipherchart::abe {
namespace {

using Op = PolicyNode::Op;

std::unique_ptr<PolicyNode> Attr(std::string s) { return MakeAttributeNode(std::move(s)); }

template <class... Nodes>
std::unique_ptr<PolicyNode> Gate(int k, Nodes... nodes) {
  std::vector<std::unique_ptr<PolicyNode>> children;
  (children.push_back(std::move(nodes)), ...);
  return MakeThresholdNode(k, std::move(children));
}
template <class... Nodes>
std::unique_ptr<PolicyNode> And(Nodes... nodes) {
  return Gate(static_cast<int>(sizeof...(nodes)), std::move(nodes)...);
}
template <class... Nodes>
std::unique_ptr<PolicyNode> Or(Nodes... nodes) {
  return Gate(1, std::move(nodes)...);
}

std::unique_ptr<PolicyNode> MustParse(std::string_view text) {
  auto p = ParsePolicy(text);
  EXPECT_TRUE(p.has_value()) << text << ": " << (p ? "" : p.error().message());
  return p ? std::move(*p) : Attr("parse-failed");
}

std::string Canonical(std::string_view text) { return PolicyToString(*MustParse(text)); }

// ---- constructs ----

TEST(PolicyParse, AttributeForms) {
  const std::pair<const char*, const char*> cases[] = {
      {"a", "a"},
      {"hospital_a.role:doctor", "hospital_a.role:doctor"},
      {"  hospital_a.role:doctor  ", "hospital_a.role:doctor"},
      {"\"hospital a\".role:\"head nurse\"", "\"hospital a\".role:\"head nurse\""},
      {"\"hospital_a\".\"role\":\"doctor\"", "hospital_a.role:doctor"},  // quotes only where needed
      {"icd.code:I21.4", "icd.code:I21.4"},                              // '.' in bare values
      {"k:\"1abc\"", "k:1abc"},                                          // values may start with a digit
      {"\"1abc\".k", "\"1abc\".k"},                                      // name parts may not
      {"a.\"or\":\"AND\"", "a.\"or\":\"AND\""},                          // keywords stay quoted
      {"a:\"with \\\"quote\\\" and \\\\\"", "a:\"with \\\"quote\\\" and \\\\\""},
      {"x-ray.tech_2:-5", "x-ray.tech_2:-5"},
      {"\"caf\xc3\xa9\".staff", "\"caf\xc3\xa9\".staff"},
      {"_a.b.c.d:e", "_a.b.c.d:e"},
      {"\"a.b\":c", "\"a.b\":c"},  // a quoted '.' is not a separator
      {"\"a:b\"", "\"a:b\""},
  };
  for (const auto& [text, canonical] : cases) {
    SCOPED_TRACE(text);
    auto p = MustParse(text);
    EXPECT_EQ(p->kind, PolicyNode::Kind::kAttribute);
    EXPECT_EQ(p->attribute, canonical);
    EXPECT_EQ(PolicyToString(*p), canonical);
    auto c = CanonicalAttribute(text);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(*c, canonical);
  }
}

TEST(PolicyParse, PrecedenceAndGrouping) {
  EXPECT_EQ(*MustParse("a AND b OR c"), *Or(And(Attr("a"), Attr("b")), Attr("c")));
  EXPECT_EQ(*MustParse("a OR b AND c"), *Or(Attr("a"), And(Attr("b"), Attr("c"))));
  EXPECT_EQ(*MustParse("(a OR b) AND c"), *And(Or(Attr("a"), Attr("b")), Attr("c")));
  EXPECT_EQ(*MustParse("a AND b AND c"), *And(Attr("a"), Attr("b"), Attr("c")));         // one n-ary gate
  EXPECT_EQ(*MustParse("a AND (b AND c)"), *And(Attr("a"), And(Attr("b"), Attr("c"))));  // kept nested
  EXPECT_EQ(*MustParse("((((a))))"), *Attr("a"));
  EXPECT_EQ(*MustParse("a or b OR c Or d oR e"), *Or(Attr("a"), Attr("b"), Attr("c"), Attr("d"), Attr("e")));
  EXPECT_EQ(*MustParse("a\tand\nb\r\nand  c"), *And(Attr("a"), Attr("b"), Attr("c")));
  EXPECT_EQ(*MustParse("(a)AND(b)"), *And(Attr("a"), Attr("b")));
  EXPECT_EQ(*MustParse("a AND \"b\""), *And(Attr("a"), Attr("b")));
  EXPECT_EQ(*MustParse("android OR order"), *Or(Attr("android"), Attr("order")));  // keyword prefixes
}

TEST(PolicyParse, Thresholds) {
  EXPECT_EQ(*MustParse("2 of (a, b, c)"), *Gate(2, Attr("a"), Attr("b"), Attr("c")));
  EXPECT_EQ(*MustParse("2 OF(a,b,c)"), *Gate(2, Attr("a"), Attr("b"), Attr("c")));
  EXPECT_EQ(*MustParse("1 of (a)"), *Gate(1, Attr("a")));
  EXPECT_EQ(*MustParse("2 of (a AND b, c OR d, e)"),
            *Gate(2, And(Attr("a"), Attr("b")), Or(Attr("c"), Attr("d")), Attr("e")));
  EXPECT_EQ(*MustParse("x AND 2 of (a, b, c) OR y"),
            *Or(And(Attr("x"), Gate(2, Attr("a"), Attr("b"), Attr("c"))), Attr("y")));
  EXPECT_EQ(*MustParse("2 of (1 of (a), b)"), *Gate(2, Gate(1, Attr("a")), Attr("b")));
  EXPECT_EQ(*MustParse("002 of (a, b, c)"), *Gate(2, Attr("a"), Attr("b"), Attr("c")));
}

TEST(PolicyParse, Comparisons) {
  struct Case {
    const char* text;
    Op op;
    std::uint64_t value;
    bool is_date;
  };
  const Case cases[] = {
      {"board.years_practice >= 5", Op::kGe, 5, false},
      {"board.years_practice>5", Op::kGt, 5, false},
      {"board.years_practice <= 4294967295", Op::kLe, 4294967295, false},
      {"board.years_practice < 1", Op::kLt, 1, false},
      {"board.years_practice == 0", Op::kEq, 0, false},
      {"board.years_practice == 00012", Op::kEq, 12, false},
      {"board.licence_expiry > 2026-11-22", Op::kGt, 20779, true},
      {"board.licence_expiry >= 1970-01-01", Op::kGe, 0, true},
      {"board.licence_expiry == 2024-02-29", Op::kEq, 19782, true},
      {"board.licence_expiry < 2000-03-01", Op::kLt, 11017, true},
      {"board.licence_expiry <= 9999-12-31", Op::kLe, 2932896, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto p = MustParse(c.text);
    ASSERT_EQ(p->kind, PolicyNode::Kind::kComparison);
    EXPECT_EQ(p->op, c.op);
    EXPECT_EQ(p->value, c.value);
    EXPECT_EQ(p->is_date, c.is_date);
    EXPECT_EQ(p->attribute, c.text[6] == 'y' ? "board.years_practice" : "board.licence_expiry");
  }
  auto q = MustParse("\"lab a\".level == 3");
  EXPECT_EQ(q->attribute, "\"lab a\".level");
}

TEST(PolicyToString, CanonicalForms) {
  const std::pair<const char*, const char*> cases[] = {
      {"a and b", "a AND b"},
      {"a Or b AnD c", "a OR (b AND c)"},
      {"(a OR b) AND c", "(a OR b) AND c"},
      {"a AND (b AND c)", "a AND (b AND c)"},
      {"((a))", "a"},
      {"2 OF (a,b , c)", "2 of (a, b, c)"},
      {"2 of (a, b)", "a AND b"},
      {"1 of (a, b)", "a OR b"},
      {"1 of (a)", "1 of (a)"},
      {"2 of (a AND b, c OR d, e)", "2 of (a AND b, c OR d, e)"},
      {"x AND 2 of (a, b, c)", "x AND 2 of (a, b, c)"},
      {"x>=5", "x >= 5"},
      {"x == 0007", "x == 7"},
      {"board.licence_expiry   >2026-11-22", "board.licence_expiry > 2026-11-22"},
      {"hospital_a.role:doctor AND (board.years_practice >= 5 OR 2 of (a.x, b.y, c.z))",
       "hospital_a.role:doctor AND (board.years_practice >= 5 OR 2 of (a.x, b.y, c.z))"},
  };
  for (const auto& [text, canonical] : cases) {
    SCOPED_TRACE(text);
    EXPECT_EQ(Canonical(text), canonical);
    EXPECT_EQ(Canonical(canonical), canonical);
  }
}

TEST(PolicyToString, RandomRoundTrip) {
  std::mt19937_64 rng(20261122);
  testing::RandomPolicyOptions options;
  options.max_depth = 5;
  for (int i = 0; i < 5000; ++i) {
    const auto policy = testing::RandomPolicy(rng, options);
    ASSERT_TRUE(ValidatePolicy(*policy).has_value()) << PolicyToString(*policy);
    const std::string text = PolicyToString(*policy);
    SCOPED_TRACE(text);
    auto back = ParsePolicy(text);
    ASSERT_TRUE(back.has_value()) << back.error().message();
    EXPECT_EQ(**back, *policy);
    EXPECT_EQ(PolicyToString(**back), text);
    EXPECT_EQ(*ClonePolicy(*policy), *policy);
  }
}

// ---- errors ----

struct BadInput {
  std::string text;
  int column;
  const char* message;  // a substring of the error message
};

TEST(PolicyParse, ErrorPositions) {
  const BadInput cases[] = {
      {"", 1, "empty policy"},
      {"   ", 4, "empty policy"},
      {"(a", 3, "expected AND, OR or ')', found end of policy"},
      {"a)", 2, "expected AND, OR or end of policy, found ')'"},
      {"((a)", 5, "expected AND, OR or ')'"},
      {"a AND", 6, "expected an attribute, '(' or a threshold 'k of (...)', found end of policy"},
      {"a AND OR b", 7, "found keyword 'OR'"},
      {"OR b", 1, "found keyword 'OR'"},
      {"2 of (a)", 1, "threshold 2 of 1: the count is larger than the number of items"},
      {"0 of (a, b)", 1, "threshold 0 of 2: the count must be at least 1"},
      {"99999999999999999999 of (a, b)", 1, "the count is larger than the number of items"},
      {"2 of a, b", 6, "expected '(' after 'of', found 'a'"},
      {"2 (a, b)", 3, "expected 'of' after the threshold count"},
      {"5", 2, "expected 'of'"},
      {"2 of (a, b", 11, "expected AND, OR, ',' or ')', found end of policy"},
      {"2 of ()", 7, "expected an attribute"},
      {"2 of (a,)", 9, "expected an attribute"},
      {"x >= 2026-02-30", 6, "invalid date 2026-02-30: month 2 of 2026 has 28 days"},
      {"x >= 2100-02-29", 6, "month 2 of 2100 has 28 days"},
      {"x >= 2026-13-01", 6, "there is no month 13"},
      {"x >= 2026-00-10", 6, "there is no month 0"},
      {"x >= 2026-04-31", 6, "month 4 of 2026 has 30 days"},
      {"x > 1969-12-31", 5, "dates before 1970-01-01 are not supported"},
      {"x > 2026-1-01", 5, "expected a date of the form YYYY-MM-DD"},
      {"x > 2026-11-221", 5, "expected a date of the form YYYY-MM-DD"},
      {"x >= 4294967296", 6, "number out of range: numeric values are 0 .. 4294967295"},
      {"x >= 99999999999999999999999", 6, "number out of range"},
      {"x < 0", 1, "the comparison 'x < 0' is never true"},
      {"a OR x > 4294967295", 6, "is never true"},
      {"x >= abc", 6, "expected a number or a date (YYYY-MM-DD), found 'abc'"},
      {"x >=", 5, "expected a number or a date"},
      {"x >= 5abc", 7, "expected AND, OR or end of policy, found 'abc'"},
      {"x = 5", 3, "expected '==' to compare"},
      {"a:b >= 5", 5, "a comparison needs a numeric attribute name without ':value'"},
      {"a & b", 3, "expected AND, OR or end of policy, found '&'"},
      {"a AND b c", 9, "found 'c'"},
      {"a ANDb", 3, "found 'ANDb'"},
      {"a AND b;", 8, "found ';'"},
      {"\"abc", 1, "unterminated quoted string"},
      {"\"abc\\", 1, "unterminated quoted string"},
      {"\"\"", 1, "empty quoted string"},
      {"a:\"\"", 3, "empty quoted string"},
      {"\"a\\n\"", 3, "unknown escape"},
      {std::string("a.\"b\x01\""), 5, "control character 0x01 in a quoted string"},
      {std::string("a\x01"), 2, "control character 0x01"},
      {std::string("a\0b", 3), 2, "control character 0x00"},
      {"and", 1, "found keyword 'and'"},
      {"a.or:x", 3, "'or' is a keyword"},
      {"a:Of", 3, "'Of' is a keyword"},
      {"a.", 3, "expected a name part"},
      {"a.:b", 3, "expected a name part"},
      {"a:", 3, "expected a value after ':'"},
      {"a :b", 3, "found ':'"},
      {"\xc3\xa4", 1, "non-ASCII character"},
      {"\"\xc3\xa9\" AND &", 9, "found '&'"},  // columns count characters, not bytes
      {"\"\xff\"", 2, "invalid UTF-8"},
      {"\"\xc0\xaf\"", 2, "invalid UTF-8"},      // overlong
      {"\"\xed\xa0\x80\"", 2, "invalid UTF-8"},  // surrogate
      {"\"\xe2\x80\xae\"", 2, "bidirectional"},  // U+202E
      {"\"\xc2\x85\"", 2, "C1"},                 // U+0085
      {std::string(65, '(') + "a" + std::string(65, ')'), 65, "parentheses nested deeper than 64 levels"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto p = ParsePolicy(c.text);
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().code(), ErrorCode::kInvalidArgument);
    const std::string prefix = "policy: column " + std::to_string(c.column) + ": ";
    EXPECT_EQ(p.error().message().substr(0, prefix.size()), prefix) << p.error().message();
    EXPECT_NE(p.error().message().find(c.message), std::string::npos) << p.error().message();
  }
}

TEST(PolicyParse, Limits) {
  // Length.
  const std::string longest = "\"" + std::string(kMaxPolicyBytes - 2, 'a') + "\"";
  EXPECT_TRUE(ParsePolicy(longest).has_value());
  auto too_long = ParsePolicy(longest + " ");
  ASSERT_FALSE(too_long.has_value());
  EXPECT_NE(too_long.error().message().find("longer than the limit of 65536"), std::string::npos);

  // Parentheses: 64 levels are fine, 65 are not (ErrorPositions).
  EXPECT_TRUE(ParsePolicy(std::string(64, '(') + "a" + std::string(64, ')')).has_value());

  // Gates: a chain of n nested ANDs needs n - 1 parentheses.
  auto chain = [](int gates) {
    std::string s = "a";
    for (int i = 0; i < gates; ++i) {
      if (i == 0) {
        s = "a AND a";
      } else {
        s.insert(0, "a AND (");
        s += ')';
      }
    }
    return s;
  };
  auto ok = ParsePolicy(chain(64));
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  auto deep = ParsePolicy(chain(65));
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().message(), "policy: column 1: gates nested deeper than 64 levels");

  // Leaves.
  std::string leaves = "a";
  for (std::size_t i = 1; i < kMaxPolicyLeaves; ++i) leaves += " OR a";
  EXPECT_TRUE(ParsePolicy(leaves).has_value());
  auto too_many = ParsePolicy(leaves + " OR a");
  ASSERT_FALSE(too_many.has_value());
  EXPECT_EQ(too_many.error().message(), "policy: column " + std::to_string(1 + 5 * kMaxPolicyLeaves) +
                                            ": the policy has more than 1024 leaves");

  // Rows after expansion: x == 1 is 32 rows.
  std::string rows = "x == 1";
  for (int i = 1; i < 128; ++i) rows += " OR x == 1";
  auto at_limit = ParsePolicy(rows);
  ASSERT_TRUE(at_limit.has_value());
  auto m = CompileToLsss(**at_limit);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->rows.size(), kMaxLsssRows);
  auto too_wide = ParsePolicy(rows + " OR x == 1");
  ASSERT_FALSE(too_wide.has_value());
  EXPECT_NE(too_wide.error().message().find("column 1281: the policy expands to more than 4096 LSSS rows"),
            std::string::npos)
      << too_wide.error().message();

  // Threshold gates whose Vandermonde block would not fit in int64.
  auto items = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) {
      s += i > 0 ? ", a" : "a";
      s += std::to_string(i);
    }
    return s;
  };
  EXPECT_TRUE(ParsePolicy("16 of (" + items(30) + ")").has_value());
  EXPECT_TRUE(ParsePolicy("30 of (" + items(30) + ")").has_value());
  auto big = ParsePolicy("17 of (" + items(30) + ")");
  ASSERT_FALSE(big.has_value());
  EXPECT_NE(big.error().message().find("column 1: threshold 17 of 30: too large to compile"),
            std::string::npos);
  EXPECT_NE(big.error().message().find("at most 16 of 30"), std::string::npos);
  EXPECT_TRUE(ParsePolicy("7 of (" + items(1024) + ")").has_value());
  EXPECT_FALSE(ParsePolicy("8 of (" + items(1024) + ")").has_value());
}

TEST(PolicyValidate, HandBuiltTrees) {
  EXPECT_TRUE(ValidatePolicy(*And(Attr("a"), Attr("b.c:d"))).has_value());
  EXPECT_FALSE(ValidatePolicy(*Attr("")).has_value());
  EXPECT_FALSE(ValidatePolicy(*Attr("a b")).has_value());
  EXPECT_FALSE(ValidatePolicy(*Attr("\"a\"")).has_value());  // not canonical (would be a)
  EXPECT_FALSE(ValidatePolicy(*Attr("x#3=1")).has_value());  // bit attributes are not policy leaves
  EXPECT_FALSE(ValidatePolicy(*Gate(0, Attr("a"), Attr("b"))).has_value());
  EXPECT_FALSE(ValidatePolicy(*Gate(3, Attr("a"), Attr("b"))).has_value());
  EXPECT_FALSE(ValidatePolicy(*MakeThresholdNode(1, {})).has_value());
  EXPECT_FALSE(ValidatePolicy(*MakeComparisonNode("x", Op::kLt, 0)).has_value());
  EXPECT_FALSE(ValidatePolicy(*MakeComparisonNode("x", Op::kGt, kMaxNumericValue)).has_value());
  EXPECT_FALSE(ValidatePolicy(*MakeComparisonNode("x", Op::kEq, kMaxNumericValue + 1)).has_value());
  EXPECT_FALSE(ValidatePolicy(*MakeComparisonNode("x:y", Op::kEq, 1)).has_value());
  EXPECT_FALSE(ValidatePolicy(*MakeComparisonNode("x", Op::kEq, 2932897, true)).has_value());
  EXPECT_TRUE(ValidatePolicy(*MakeComparisonNode("x", Op::kEq, 2932896, true)).has_value());
  std::unique_ptr<PolicyNode> deep = Attr("a");
  for (int i = 0; i < kMaxPolicyDepth; ++i) deep = Or(std::move(deep), Attr("b"));
  EXPECT_TRUE(ValidatePolicy(*deep).has_value());
  deep = Or(std::move(deep), Attr("b"));
  EXPECT_FALSE(ValidatePolicy(*deep).has_value());
  EXPECT_FALSE(CompileToLsss(*deep).has_value());
}

// ---- dates ----

TEST(PolicyDates, CivilDays) {
  using internal::DaysFromCivil;
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0u);
  EXPECT_EQ(DaysFromCivil(1970, 1, 2), 1u);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017u);
  EXPECT_EQ(DaysFromCivil(2038, 1, 19), 24855u);
  EXPECT_EQ(DaysFromCivil(2100, 3, 1), 47541u);
  EXPECT_EQ(DaysFromCivil(9999, 12, 31), internal::kMaxDateDays);
  // Every date 1970-01-01 .. 9999-12-31 is the day after the previous one, and prints back.
  std::uint64_t expected = 0;
  for (int y = 1970; y <= 9999; ++y) {
    for (int m = 1; m <= 12; ++m) {
      for (int d = 1; d <= internal::DaysInMonth(y, m); ++d, ++expected) {
        ASSERT_EQ(DaysFromCivil(y, m, d), expected) << y << "-" << m << "-" << d;
        if (expected % 997 == 0 || (m == 2 && d >= 28) || (m == 12 && d == 31)) {
          const std::string text = internal::FormatDate(expected);
          char buf[32];
          std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
          ASSERT_EQ(text, buf);
        }
      }
    }
  }
  EXPECT_TRUE(internal::IsLeapYear(2000));
  EXPECT_FALSE(internal::IsLeapYear(1900));
  EXPECT_FALSE(internal::IsLeapYear(2100));
  EXPECT_TRUE(internal::IsLeapYear(2024));
}

// ---- the key syntax ----

TEST(AttributeSetParse, Syntax) {
  auto s = ParseAttributeSet("role:doctor, dept:cardiology, years_practice=12");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->attributes, (std::set<std::string>{"role:doctor", "dept:cardiology"}));
  EXPECT_EQ(s->numeric, (std::map<std::string, std::uint64_t>{{"years_practice", 12}}));

  auto t = ParseAttributeSet(
      " hospital_a.role:doctor ,board.licence_expiry = 2027-03-31,\"hospital a\".role:\"head nurse\",a.x,"
      "\"lab a\".level=4294967295 ");
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_EQ(t->attributes,
            (std::set<std::string>{"hospital_a.role:doctor", "\"hospital a\".role:\"head nurse\"", "a.x"}));
  EXPECT_EQ(t->numeric, (std::map<std::string, std::uint64_t>{{"board.licence_expiry", 20908},
                                                              {"\"lab a\".level", 4294967295}}));

  auto empty = ParseAttributeSet("  ");
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->attributes.empty() && empty->numeric.empty());

  // Canonical key syntax round trip.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 500; ++i) {
    const AttributeSet set = testing::RandomAttributeSet(rng);
    auto back = ParseAttributeSet(AttributeSetToString(set));
    ASSERT_TRUE(back.has_value()) << AttributeSetToString(set) << ": " << back.error().message();
    EXPECT_EQ(*back, set);
  }
}

TEST(AttributeSetParse, Errors) {
  const BadInput cases[] = {
      {"a,", 3, "expected an attribute name, found end of attribute set"},
      {",a", 1, "expected an attribute name, found ','"},
      {"a b", 3, "expected ',' or end of attribute set, found 'b'"},
      {"a=1, a=2", 6, "numeric attribute a is given twice"},
      {"a, a", 4, "attribute a is listed twice"},
      {"r:x, r:x", 6, "attribute r:x is listed twice"},
      {"a==1", 2, "expected '='"},
      {"a=x", 3, "expected a number or a date"},
      {"a=4294967296", 3, "number out of range"},
      {"a=2026-02-29", 3, "month 2 of 2026 has 28 days"},
      {"and:x", 1, "found keyword 'and'"},
      {"a:or", 3, "'or' is a keyword"},
      {"a >= 5", 3, "expected ',' or end of attribute set, found '>'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto s = ParseAttributeSet(c.text);
    ASSERT_FALSE(s.has_value());
    const std::string prefix = "attribute set: column " + std::to_string(c.column) + ": ";
    EXPECT_EQ(s.error().message().substr(0, prefix.size()), prefix) << s.error().message();
    EXPECT_NE(s.error().message().find(c.message), std::string::npos) << s.error().message();
  }
}

TEST(AttributeSet, Expanded) {
  auto s = ParseAttributeSet("role:doctor, years=5");
  ASSERT_TRUE(s.has_value());
  const auto e = s->Expanded();
  EXPECT_EQ(e.size(), 1u + kNumericBits);
  EXPECT_TRUE(e.contains("role:doctor"));
  EXPECT_TRUE(e.contains("years#0=1"));
  EXPECT_TRUE(e.contains("years#1=0"));
  EXPECT_TRUE(e.contains("years#2=1"));
  EXPECT_TRUE(e.contains("years#31=0"));
  EXPECT_FALSE(e.contains("years#0=0"));
  EXPECT_EQ(BitAttribute("board.years_practice", 5, true), "board.years_practice#5=1");
  // An out-of-range value (only possible by hand) contributes nothing.
  AttributeSet bad;
  bad.numeric["x"] = kMaxNumericValue + 1;
  EXPECT_TRUE(bad.Expanded().empty());
  EXPECT_FALSE(Satisfies(*MustParse("x >= 0"), bad));
}

// ---- direct evaluation ----

TEST(PolicySatisfies, Examples) {
  const auto policy =
      MustParse("hospital_a.role:doctor AND (board.years_practice >= 5 OR 2 of (a.x, b.y, c.z))");
  auto eval = [&](const char* key) {
    auto s = ParseAttributeSet(key);
    EXPECT_TRUE(s.has_value()) << key;
    return Satisfies(*policy, *s);
  };
  EXPECT_TRUE(eval("hospital_a.role:doctor, board.years_practice=5"));
  EXPECT_TRUE(eval("hospital_a.role:doctor, board.years_practice=40"));
  EXPECT_FALSE(eval("hospital_a.role:doctor, board.years_practice=4"));
  EXPECT_FALSE(eval("hospital_a.role:doctor"));
  EXPECT_TRUE(eval("hospital_a.role:doctor, a.x, c.z"));
  EXPECT_FALSE(eval("hospital_a.role:doctor, a.x, b.y:1"));
  EXPECT_FALSE(eval("hospital_a.role:nurse, a.x, b.y, c.z, board.years_practice=9"));
  EXPECT_FALSE(eval("role:doctor, board.years_practice=9"));  // namespaces matter

  const auto dates = MustParse("board.licence_expiry > 2026-11-22");
  auto until = [&](const char* key) { return Satisfies(*dates, *ParseAttributeSet(key)); };
  EXPECT_TRUE(until("board.licence_expiry=2026-11-23"));
  EXPECT_FALSE(until("board.licence_expiry=2026-11-22"));
  EXPECT_TRUE(until("board.licence_expiry=20780"));
  EXPECT_FALSE(until("board.licence_expiry:2027-01-01"));  // a plain attribute is not a value
}

}  // namespace
}  // namespace cipherchart::abe
