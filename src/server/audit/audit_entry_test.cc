#include "cipherchart/server/audit_entry.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace cipherchart::server {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes B(std::string_view text) { return Bytes(text.begin(), text.end()); }
std::string S(const Bytes& bytes) { return std::string(bytes.begin(), bytes.end()); }

AuditEntry Sample() {
  AuditEntry e;
  e.time_ms = 1700000000123;
  e.actor = "u0123456789abcdefghijklmnop";
  e.action = "record.fetch";
  e.patient_id = "pABCDEF";
  e.target = "vital-signs@3";
  e.outcome = "ok";
  return e;
}

// The canonical encoding of Sample(), written out by hand from the rules in audit_entry.h.
constexpr std::string_view kSampleEncoding =
    R"({"action":"record.fetch","actor":"u0123456789abcdefghijklmnop","outcome":"ok",)"
    R"("patient_id":"pABCDEF","target":"vital-signs@3","time_ms":1700000000123})";

TEST(AuditEntryTest, KnownEncoding) {
  auto bytes = EncodeAuditEntry(Sample());
  ASSERT_TRUE(bytes) << bytes.error().ToString();
  EXPECT_EQ(S(*bytes), kSampleEncoding);
  auto back = DecodeAuditEntry(*bytes);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, Sample());

  const AuditEntry empty;
  bytes = EncodeAuditEntry(empty);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(S(*bytes), R"({"action":"","actor":"","outcome":"","patient_id":"","target":"","time_ms":0})");
  back = DecodeAuditEntry(*bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, empty);
}

TEST(AuditEntryTest, EscapesAreMinimal) {
  AuditEntry e = Sample();
  e.target =
      std::string("q\"b\\s/ \b\f\n\r\t") + '\0' + "\x01\x1f\x7f" + "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
  e.actor = "<script>&'";
  auto bytes = EncodeAuditEntry(e);
  ASSERT_TRUE(bytes);
  const std::string text = S(*bytes);
  // " and \ escaped; the five short escapes; other controls as \u00xx in lower case; '/', DEL,
  // HTML metacharacters and non-ASCII UTF-8 as they are.
  EXPECT_NE(text.find(R"("target":"q\"b\\s/ \b\f\n\r\t\u0000\u0001\u001f)"
                      "\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"("actor":"<script>&'")"), std::string::npos) << text;
  auto back = DecodeAuditEntry(*bytes);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, e);
}

TEST(AuditEntryTest, EveryByteAndCodePointClassRoundTrips) {
  // Every ASCII character (controls included) in one field, and a sample of code points of
  // every UTF-8 length, including the largest.
  AuditEntry e = Sample();
  for (int c = 0; c < 0x80; ++c) e.outcome.push_back(static_cast<char>(c));
  e.patient_id =
      "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf";
  auto bytes = EncodeAuditEntry(e);
  ASSERT_TRUE(bytes);
  auto back = DecodeAuditEntry(*bytes);
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(*back, e);
}

TEST(AuditEntryTest, TimeRange) {
  for (const std::int64_t t : {std::int64_t{0}, std::int64_t{-1}, std::numeric_limits<std::int64_t>::min(),
                               std::numeric_limits<std::int64_t>::max()}) {
    AuditEntry e = Sample();
    e.time_ms = t;
    auto bytes = EncodeAuditEntry(e);
    ASSERT_TRUE(bytes);
    EXPECT_NE(S(*bytes).find("\"time_ms\":" + std::to_string(t) + "}"), std::string::npos);
    auto back = DecodeAuditEntry(*bytes);
    ASSERT_TRUE(back) << back.error().ToString();
    EXPECT_EQ(back->time_ms, t);
  }
}

TEST(AuditEntryTest, EncoderRejectsInvalidUtf8) {
  for (const std::string_view bad : {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    AuditEntry e = Sample();
    e.target = bad;
    auto bytes = EncodeAuditEntry(e);
    ASSERT_FALSE(bytes);
    EXPECT_EQ(bytes.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(bytes.error().message(), "audit entry: field \"target\" is not well-formed UTF-8");
  }
}

// Rejected with kInvalidEncoding and a message containing `needle`.
void ExpectRejected(std::string_view input, std::string_view needle) {
  SCOPED_TRACE(std::string(input));
  auto entry = DecodeAuditEntry(B(input));
  ASSERT_FALSE(entry);
  EXPECT_EQ(entry.error().code(), ErrorCode::kInvalidEncoding);
  EXPECT_NE(entry.error().message().find(needle), std::string::npos) << entry.error().message();
}

constexpr std::string_view kNonCanonical = "valid JSON but not the canonical encoding";

TEST(AuditEntryTest, RejectsNonCanonicalJson) {
  const std::string good(kSampleEncoding);
  ASSERT_TRUE(DecodeAuditEntry(B(good)));
  // Whitespace anywhere.
  ExpectRejected(" " + good, kNonCanonical);
  ExpectRejected(good + "\n", kNonCanonical);
  ExpectRejected(R"({ "action":"record.fetch","actor":"u0123456789abcdefghijklmnop","outcome":"ok",)"
                 R"("patient_id":"pABCDEF","target":"vital-signs@3","time_ms":1700000000123})",
                 "first difference at offset 1");
  ExpectRejected(R"({"action": "record.fetch","actor":"u0123456789abcdefghijklmnop","outcome":"ok",)"
                 R"("patient_id":"pABCDEF","target":"vital-signs@3","time_ms":1700000000123})",
                 "first difference at offset 10");
  // Another key order.
  ExpectRejected(R"({"actor":"u0123456789abcdefghijklmnop","action":"record.fetch","outcome":"ok",)"
                 R"("patient_id":"pABCDEF","target":"vital-signs@3","time_ms":1700000000123})",
                 kNonCanonical);
  // Non-minimal escapes of characters that need none, or upper-case hex.
  ExpectRejected(R"({"action":"record.fetch","actor":"u0123456789abcdefghijklmnop","outcome":"\u006fk",)"
                 R"("patient_id":"pABCDEF","target":"vital-signs@3","time_ms":1700000000123})",
                 kNonCanonical);
  ExpectRejected(R"({"action":"record.fetch","actor":"u0123456789abcdefghijklmnop","outcome":"ok",)"
                 R"("patient_id":"pABCDEF","target":"vital-signs\/3","time_ms":1700000000123})",
                 kNonCanonical);
  ExpectRejected(R"({"action":"record.fetch","actor":"u0123456789abcdefghijklmnop","outcome":"ok",)"
                 R"("patient_id":"pABCDEF","target":"\u001F","time_ms":1700000000123})",
                 kNonCanonical);
  ExpectRejected(R"({"action":"record.fetch","actor":"u0123456789abcdefghijklmnop","outcome":"ok",)"
                 R"("patient_id":"pABCDEF","target":"\u00e9","time_ms":1700000000123})",
                 kNonCanonical);
  ExpectRejected(R"({"action":"record.fetch","actor":"u0123456789abcdefghijklmnop","outcome":"ok",)"
                 R"("patient_id":"pABCDEF","target":"\u000a","time_ms":1700000000123})",
                 kNonCanonical);
  // Numbers in another form.
  for (const std::string_view t : {"-0", "1.7e12", "1700000000123.0", "01"}) {
    ExpectRejected(
        R"({"action":"","actor":"","outcome":"","patient_id":"","target":"","time_ms":)" + std::string(t) +
            "}",
        t == "01" ? "not valid JSON" : (t == "-0" ? kNonCanonical : "is a JSON non-integer number"));
  }
  // A repeated key (the parser keeps one; the encoding then differs).
  ExpectRejected(
      R"({"action":"a","action":"a","actor":"","outcome":"","patient_id":"","target":"","time_ms":0})",
      kNonCanonical);
  // A byte order mark.
  ExpectRejected("\xef\xbb\xbf" + good, kNonCanonical);
}

TEST(AuditEntryTest, RejectsWrongShape) {
  ExpectRejected("", "not valid JSON");
  ExpectRejected("{", "not valid JSON (error at offset 1)");
  ExpectRejected("nul", "not valid JSON");
  ExpectRejected(R"({"action":"x"} {})", "not valid JSON");
  ExpectRejected("[]", "the top-level value is a JSON array, not an object");
  ExpectRejected(R"("action")", "the top-level value is a JSON string, not an object");
  ExpectRejected("{}", "missing key \"action\"");
  ExpectRejected(R"({"action":"","actor":"","outcome":"","patient_id":"","target":""})",
                 "missing key \"time_ms\"");
  ExpectRejected(R"({"action":"","actor":"","outcome":"","patient_id":"","time_ms":0})",
                 "missing key \"target\"");
  ExpectRejected(
      R"({"action":"","actor":"","extra":1,"outcome":"","patient_id":"","target":"","time_ms":0})",
      "unknown key \"extra\" (the keys are action, actor, outcome, patient_id, target and time_ms)");
  ExpectRejected(R"({"action":"","actor":"","outcome":"","patient_id":"","target":"","time_ms":0,")" +
                     std::string(40, 'k') + R"(":0})",
                 "unknown key of 40 bytes");
  ExpectRejected(R"({"action":1,"actor":"","outcome":"","patient_id":"","target":"","time_ms":0})",
                 "key \"action\" is a JSON number, not a string");
  ExpectRejected(R"({"action":"","actor":null,"outcome":"","patient_id":"","target":"","time_ms":0})",
                 "key \"actor\" is a JSON null, not a string");
  ExpectRejected(R"({"action":"","actor":"","outcome":["ok"],"patient_id":"","target":"","time_ms":0})",
                 "key \"outcome\" is a JSON array, not a string");
  ExpectRejected(R"({"action":"","actor":"","outcome":"","patient_id":"","target":"","time_ms":"0"})",
                 "key \"time_ms\" is a JSON string, not an integer");
  ExpectRejected(R"({"action":"","actor":"","outcome":"","patient_id":"","target":"","time_ms":true})",
                 "key \"time_ms\" is a JSON boolean, not an integer");
  ExpectRejected(
      R"({"action":"","actor":"","outcome":"","patient_id":"","target":"","time_ms":9223372036854775808})",
      "key \"time_ms\" is above the largest 64-bit signed integer");
  ExpectRejected(
      R"({"action":"","actor":"","outcome":"","patient_id":"","target":"","time_ms":99999999999999999999})",
      "is a JSON non-integer number");
}

TEST(AuditEntryTest, RejectsInvalidText) {
  const std::string prefix = R"({"action":"","actor":"","outcome":"","patient_id":"","target":")";
  const std::string suffix = R"(","time_ms":0})";
  for (const std::string& bad : {
           std::string("\xff"),              // not UTF-8
           std::string("\xc0\xaf"),          // overlong
           std::string("\xed\xa0\x80"),      // a surrogate
           std::string("\xf4\x90\x80\x80"),  // above U+10FFFF
           std::string("\x01"),              // an unescaped control character
           std::string(1, '\0'),             // NUL, unescaped
           std::string("\\ud800"),           // a lone surrogate escape
           std::string("\\x41"),             // not a JSON escape
       }) {
    std::string input = prefix;
    input += bad;
    input += suffix;
    ExpectRejected(input, "not valid JSON");
  }
  // Escaped, the same characters are fine.
  auto ok = DecodeAuditEntry(B(prefix + "\\u0000\\u0001\\ud83d\\ude00" + suffix));
  EXPECT_FALSE(ok);  // the surrogate pair is not the canonical form of U+1F600 ...
  ok = DecodeAuditEntry(B(prefix + "\\u0000\\u0001\xf0\x9f\x98\x80" + suffix));
  ASSERT_TRUE(ok) << ok.error().ToString();  // ... its UTF-8 bytes are
  EXPECT_EQ(ok->target, std::string("\0\x01\xf0\x9f\x98\x80", 6));
}

}  // namespace
}  // namespace cipherchart::server
