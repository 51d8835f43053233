#include "src/cli/output.h"

#include <gtest/gtest.h>

namespace cipherchart::cli {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(TerminalSafe, KeepsPrintableTextNewlinesTabsAndUnicode) {
  EXPECT_EQ(TerminalSafe("Dr. Müller\t120/80 mm[Hg]\n"), "Dr. Müller\t120/80 mm[Hg]\n");
  EXPECT_EQ(TerminalSafe("日本語 ✓"), "日本語 ✓");
}

TEST(TerminalSafe, NeutralisesEscapesControlsAndDel) {
  EXPECT_EQ(TerminalSafe("\x1b[2Jcleared"), kFffd + "[2Jcleared");
  EXPECT_EQ(TerminalSafe(std::string("a\0b", 3)), "a" + kFffd + "b");
  EXPECT_EQ(TerminalSafe("\rover\x7f"), kFffd + "over" + kFffd);
  EXPECT_EQ(TerminalSafe("\xC2\x9B"
                         "31m"),
            kFffd + "31m");  // C1 CSI
}

TEST(TerminalSafe, NeutralisesBidiOverridesAndIsolates) {
  EXPECT_EQ(TerminalSafe("x\xE2\x80\xAEy"), "x" + kFffd + "y");  // U+202E RLO
  EXPECT_EQ(TerminalSafe("\xE2\x81\xA6z"), kFffd + "z");         // U+2066 LRI
}

TEST(TerminalSafe, ReplacesInvalidUtf8) {
  EXPECT_EQ(TerminalSafe("\xFF"), kFffd);
  EXPECT_EQ(TerminalSafe("\xC0\xAF"), kFffd + kFffd);              // overlong '/'
  EXPECT_EQ(TerminalSafe("\xED\xA0\x80"), kFffd + kFffd + kFffd);  // a surrogate
  EXPECT_EQ(TerminalSafe("ab\xE2\x82"), "ab" + kFffd + kFffd);     // cut sequence
}

TEST(ExitCodes, FollowTheErrorKind) {
  EXPECT_EQ(ExitFor(Error(ErrorCode::kWrongCredentials, "")), kLocked);
  EXPECT_EQ(ExitFor(Error(ErrorCode::kIntegrity, "")), kTampered);
  EXPECT_EQ(ExitFor(Error(ErrorCode::kSignerMismatch, "")), kTampered);
  EXPECT_EQ(ExitFor(Error(ErrorCode::kPermissionDenied, "")), kRefused);
  EXPECT_EQ(ExitFor(Error(ErrorCode::kNotFound, "")), kRefused);
  EXPECT_EQ(ExitFor(Error(ErrorCode::kConflict, "")), kFailed);
  EXPECT_EQ(ExitFor(Error(ErrorCode::kInternal, "")), kFailed);
}

}  // namespace
}  // namespace cipherchart::cli
