#include "src/cli/settings.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace cipherchart::cli {
namespace {

namespace fs = std::filesystem;

class SettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() / ("cc-settings-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(home_);
    fs::create_directories(home_);
    for (const char* v :
         {"CIPHERCHART_SERVER", "CIPHERCHART_CA_FILE", "CIPHERCHART_HOME", "CIPHERCHART_PASSPHRASE",
          "CIPHERCHART_PASSPHRASE_FILE", "CIPHERCHART_DEVICE_KEY", "CIPHERCHART_TRUST_FILE"})
      ::unsetenv(v);
  }
  void TearDown() override { fs::remove_all(home_); }
  void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
  fs::path home_;
};

TEST_F(SettingsTest, FlagsBeatEnvironmentBeatsConfigFile) {
  Write(home_ / "config.toml", "server = \"config:1\"\nca_file = \"/c.pem\"\n");
  Settings flags;
  flags.home = home_;
  auto s = ResolveSettings(flags);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->server, "config:1");
  EXPECT_EQ(s->ca_file, "/c.pem");
  EXPECT_EQ(s->device_key, (home_ / "device.key").string());
  ::setenv("CIPHERCHART_SERVER", "env:2", 1);
  s = ResolveSettings(flags);
  EXPECT_EQ(s->server, "env:2");
  flags.server = "flag:3";
  s = ResolveSettings(flags);
  EXPECT_EQ(s->server, "flag:3");
  EXPECT_EQ(s->ca_file, "/c.pem");
  ::unsetenv("CIPHERCHART_SERVER");
}

TEST_F(SettingsTest, ConfigFileErrorsNameTheSetting) {
  Write(home_ / "config.toml", "colour = \"blue\"\n");
  Settings flags;
  flags.home = home_;
  auto s = ResolveSettings(flags);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("unknown setting 'colour'"), std::string::npos) << s.error().message();
  Write(home_ / "config.toml", "server = 8443\n");
  s = ResolveSettings(flags);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("server: not a string"), std::string::npos) << s.error().message();
}

TEST_F(SettingsTest, SavedSettingsReadBack) {
  Settings s;
  s.home = home_;
  s.server = "example:9";
  ASSERT_TRUE(SaveSettings(s));
  Settings flags;
  flags.home = home_;
  auto back = ResolveSettings(flags);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->server, "example:9");
}

TEST_F(SettingsTest, PassphraseFileLosesItsNewlineAndDeviceKeyIsAppended) {
  Write(home_ / "pass", "secret\n");
  std::ofstream(home_ / "device.key", std::ios::binary) << std::string(32, 'k');
  Settings s;
  s.passphrase_file = (home_ / "pass").string();
  s.device_key = (home_ / "device.key").string();
  auto p = WalletPassphrase(s, false);
  ASSERT_TRUE(p);
  EXPECT_TRUE(*p == SecretBytes(std::span(reinterpret_cast<const std::uint8_t*>("secret"), 6)));
  auto with_device = WalletPassphrase(s, true);
  ASSERT_TRUE(with_device);
  EXPECT_EQ(with_device->size(), 6u + 1 + 32);
}

TEST_F(SettingsTest, MissingOrShortDeviceKeyLocksTheWallet) {
  Write(home_ / "pass", "secret");
  Settings s;
  s.passphrase_file = (home_ / "pass").string();
  s.device_key = (home_ / "nope.key").string();
  auto p = WalletPassphrase(s, true);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), ErrorCode::kWrongCredentials);
  Write(home_ / "short.key", "abc");
  s.device_key = (home_ / "short.key").string();
  p = WalletPassphrase(s, true);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), ErrorCode::kWrongCredentials);
}

TEST_F(SettingsTest, EmptyPassphraseIsRefused) {
  Write(home_ / "pass", "\n");
  Settings s;
  s.passphrase_file = (home_ / "pass").string();
  auto p = WalletPassphrase(s, false);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message().find("empty"), std::string::npos);
}

}  // namespace
}  // namespace cipherchart::cli
