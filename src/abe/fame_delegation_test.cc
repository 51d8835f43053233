// FAME key delegation (fame.h, Delegate): children open exactly what their subset allows, are
// re-randomised, delegate further, survive serialisation, and the bases alone open nothing.
#include <gtest/gtest.h>

#include "cipherchart/abe/fame.h"
#include "cipherchart/abe/fame_serialize.h"
#include "src/abe/fame_test_fixture.h"

namespace cipherchart::abe::fame {
namespace {

std::unique_ptr<PolicyNode> Policy(std::string_view text) {
  auto p = ParsePolicy(text);
  EXPECT_TRUE(p.has_value()) << text;
  return p ? std::move(*p) : nullptr;
}

class FameDelegationTest : public testing::FameKeysFixture {
 protected:
  static SecretKey DelegableKey() {
    auto sk = KeyGen(keys_->msk, {"h.role:doctor", "h.dept:cardiology", "h.ward:3"}, KeyKind::kDelegable);
    EXPECT_TRUE(sk.has_value());
    EXPECT_EQ(sk->delegation.size(), 2u);
    return *sk;
  }
  // Whether `sk` opens an encapsulation under `policy` to the right key.
  static bool Opens(const SecretKey& sk, std::string_view policy) {
    auto p = Policy(policy);
    auto enc = Encapsulate(keys_->pk, *p);
    EXPECT_TRUE(enc.has_value());
    auto key = Decapsulate(sk, enc->ct);
    return key.has_value() && *key == enc->key;
  }
};

TEST_F(FameDelegationTest, ChildOpensExactlyWhatItsSubsetAllows) {
  const SecretKey parent = DelegableKey();
  EXPECT_TRUE(Opens(parent, "h.role:doctor AND h.dept:cardiology AND h.ward:3"));
  auto child = Delegate(parent, {"h.role:doctor", "h.ward:3"});
  ASSERT_TRUE(child.has_value()) << child.error().ToString();
  EXPECT_EQ(child->k.size(), 2u);
  EXPECT_TRUE(Opens(*child, "h.role:doctor AND h.ward:3"));
  EXPECT_TRUE(Opens(*child, "h.role:doctor OR h.dept:cardiology"));
  EXPECT_FALSE(Opens(*child, "h.role:doctor AND h.dept:cardiology"));
  // Grandchild: the child's own bases let it delegate further.
  ASSERT_EQ(child->delegation.size(), 2u);
  auto grandchild = Delegate(*child, {"h.ward:3"});
  ASSERT_TRUE(grandchild.has_value());
  EXPECT_TRUE(Opens(*grandchild, "h.ward:3"));
  EXPECT_FALSE(Opens(*grandchild, "h.role:doctor"));
  // Outsourced decryption works with a delegated key as with any other.
  auto tk = MakeTransformKey(*child);
  ASSERT_TRUE(tk.has_value());
  EXPECT_TRUE(tk->tk.blinded.delegation.empty());
  auto enc = Encapsulate(keys_->pk, *Policy("h.ward:3"));
  auto partial = Transform(tk->tk, enc->ct);
  ASSERT_TRUE(partial.has_value());
  auto key = DecryptTransformed(tk->z, *partial);
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(*key == enc->key);
}

TEST_F(FameDelegationTest, ChildIsReRandomised) {
  const SecretKey parent = DelegableKey();
  auto c1 = Delegate(parent, {"h.role:doctor"});
  auto c2 = Delegate(parent, {"h.role:doctor"});
  ASSERT_TRUE(c1 && c2);
  for (int l = 0; l < 3; ++l) {
    EXPECT_FALSE(c1->k0[l] == parent.k0[l]);
    EXPECT_FALSE(c1->k0[l] == c2->k0[l]);
    EXPECT_FALSE(c1->kp[l] == parent.kp[l]);
    EXPECT_FALSE(c1->k.at("h.role:doctor")[l] == parent.k.at("h.role:doctor")[l]);
    EXPECT_FALSE(c1->k.at("h.role:doctor")[l] == c2->k.at("h.role:doctor")[l]);
    EXPECT_FALSE(c1->delegation[0].k0[l] == parent.delegation[0].k0[l]);
  }
}

TEST_F(FameDelegationTest, RefusesNonDelegableKeysAndForeignAttributes) {
  auto standard = KeyGen(keys_->msk, {"h.role:doctor"});
  ASSERT_TRUE(standard.has_value());
  EXPECT_TRUE(standard->delegation.empty());
  auto no = Delegate(*standard, {"h.role:doctor"});
  ASSERT_FALSE(no.has_value());
  EXPECT_EQ(no.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(no.error().message().find("not issued as delegable"), std::string::npos);
  auto foreign = Delegate(DelegableKey(), {"h.role:doctor", "h.role:admin"});
  ASSERT_FALSE(foreign.has_value());
  EXPECT_EQ(foreign.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(foreign.error().message().find("'h.role:admin' is not in the parent key"), std::string::npos);
}

TEST_F(FameDelegationTest, BasesAloneOrMixedOpenNothing) {
  // A basis is a key with d = 0: used as a key it reconstructs, but to the wrong value.
  const SecretKey parent = DelegableKey();
  auto enc = Encapsulate(keys_->pk, *Policy("h.role:doctor"));
  for (const auto& b : parent.delegation) {
    SecretKey as_key;
    as_key.k0 = b.k0;
    as_key.kp = b.kp;
    as_key.k = b.k;
    auto key = Decapsulate(as_key, enc->ct);
    ASSERT_TRUE(key.has_value());
    EXPECT_FALSE(*key == enc->key);
  }
  // Another user's key shifted along this key's bases stays useless for this key's policy:
  // the k0 and kp of one key with the attribute components of the other.
  auto other = KeyGen(keys_->msk, {"h.dept:cardiology"});
  ASSERT_TRUE(other.has_value());
  auto both = Encapsulate(keys_->pk, *Policy("h.role:doctor AND h.dept:cardiology"));
  SecretKey mixed = parent;
  mixed.k.erase("h.dept:cardiology");
  mixed.k.emplace("h.dept:cardiology", other->k.at("h.dept:cardiology"));
  for (const SecretKey* k0_from : {&parent, static_cast<const SecretKey*>(&*other)}) {
    mixed.k0 = k0_from->k0;
    mixed.kp = k0_from->kp;
    auto key = Decapsulate(mixed, both->ct);
    ASSERT_TRUE(key.has_value());
    EXPECT_FALSE(*key == both->key);
  }
}

TEST_F(FameDelegationTest, DelegableKeysSerialise) {
  const SecretKey parent = DelegableKey();
  auto bytes = Serialize(parent);
  ASSERT_TRUE(bytes.has_value());
  auto parsed = ParseSecretKey(bytes->span());
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  ASSERT_EQ(parsed->delegation.size(), 2u);
  auto again = Serialize(*parsed);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(*again == *bytes);
  auto child = Delegate(*parsed, {"h.dept:cardiology"});
  ASSERT_TRUE(child.has_value());
  EXPECT_TRUE(Opens(*child, "h.dept:cardiology"));
  // A basis count other than 0 or 2 is refused with the field named.
  const std::size_t standard_size = Serialize(*KeyGen(keys_->msk, {"h.x"}))->size();
  EXPECT_EQ(standard_size, 5u + 3 * 96 + 3 * 48 + 2 + 2 + 3 + 3 * 48 + 1);
  auto standard = Serialize(*KeyGen(keys_->msk, {"h.x"}));
  std::vector<std::uint8_t> bad(standard->span().begin(), standard->span().end());
  bad.back() = 1;
  auto refused = ParseSecretKey(bad);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("delegation basis count"), std::string::npos);
}

}  // namespace
}  // namespace cipherchart::abe::fame
