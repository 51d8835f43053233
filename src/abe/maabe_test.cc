// Tests of the multi-authority scheme (maabe.h): global parameters, correctness over random
// multi-authority policies against an independent evaluator, collusion across identities, a
// corrupted authority, outsourced decryption, and the refusals.
#include "cipherchart/abe/maabe.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "src/abe/policy_test_util.h"

namespace cipherchart::abe::maabe {
namespace {

std::unique_ptr<PolicyNode> Policy(std::string_view text) {
  auto p = ParsePolicy(text);
  EXPECT_TRUE(p.has_value()) << text << ": " << (p ? "" : p.error().message());
  return p ? std::move(*p) : nullptr;
}

// Authorities shared by the tests (setup is the expensive part of a fixture).
struct World {
  std::vector<AuthorityKeyPair> authorities;  // auth0 .. auth4
  std::vector<AuthorityPublicKey> pks;
};
const World& TheWorld() {
  static const World w = [] {
    World out;
    for (int i = 0; i < 5; ++i) {
      auto a = AuthoritySetup("auth" + std::to_string(i));
      if (!a) std::abort();
      out.pks.push_back(a->pk);
      out.authorities.push_back(std::move(*a));
    }
    return out;
  }();
  return w;
}

const AuthorityKeyPair& Authority(std::string_view ns) {
  for (const auto& a : TheWorld().authorities)
    if (a.pk.authority_namespace == ns) return a;
  std::abort();
}

// The user key of `gid` for `attributes` (each "authI.*"), one KeyGen per authority.
UserKey MakeUser(std::string_view gid, const AttributeSet& attributes) {
  std::map<std::string, std::set<std::string>> per_authority;
  for (const auto& a : attributes.Expanded()) per_authority[a.substr(0, a.find('.'))].insert(a);
  UserKey user{std::string(gid), {}};
  for (const auto& [ns, attrs] : per_authority) {
    auto keys = KeyGen(Authority(ns), gid, attrs);
    EXPECT_TRUE(keys.has_value()) << keys.error().message();
    EXPECT_TRUE(AddKeys(user, *keys).has_value());
  }
  return user;
}

AttributeSet Attributes(std::string_view text) {
  auto s = ParseAttributeSet(text);
  EXPECT_TRUE(s.has_value()) << text;
  return s ? *s : AttributeSet{};
}

TEST(MaabeGlobal, ParametersComeFromHashToCurveAndAreSound) {
  const auto& gp = Global();
  EXPECT_FALSE(gp.g1.IsIdentity());
  EXPECT_FALSE(gp.g2.IsIdentity());
  EXPECT_TRUE(gp.g1.IsInSubgroup());
  EXPECT_TRUE(gp.g2.IsInSubgroup());
  EXPECT_NE(gp.g1, G1::Generator());  // not the standard generator: derived from our DST
  EXPECT_EQ(gp.egg, pairing::Pairing(gp.g1, gp.g2));
  EXPECT_FALSE(gp.egg.IsIdentity());
  // Domain separation: identities, attributes and the generator hash to different points.
  EXPECT_NE(HashIdentity("auth0.x"), HashAttribute("auth0.x"));
  EXPECT_NE(HashIdentity("generator"), gp.g2);
  EXPECT_NE(HashAttribute("a.b"), HashAttribute("a.c"));
  EXPECT_EQ(HashAttribute("a.b"), HashAttribute("a.b"));
}

TEST(MaabeAuthority, SetupIsIndependentAndConsistent) {
  auto a = AuthoritySetup("hospital_a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->pk.e_alpha, Global().egg.Pow(a->msk.alpha));
  EXPECT_EQ(a->pk.g_y, Global().g1.Mul(a->msk.y));
  auto again = FromMasterKey(a->msk);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->id, a->id);
  auto b = AuthoritySetup("hospital_a");
  ASSERT_TRUE(b.has_value());
  EXPECT_NE(b->id, a->id);  // same namespace, fresh key: another id

  auto bad = AuthoritySetup("Not A Namespace!");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
}

TEST(MaabeRoundTrip, KeysOfOneIdentityFromSeveralAuthoritiesCombine) {
  const auto policy =
      Policy("auth0.role:doctor AND auth1.licence:active AND (auth2.ward:icu OR auth2.ward:er)");
  auto enc = Encapsulate(TheWorld().pks, *policy);
  ASSERT_TRUE(enc.has_value()) << enc.error().message();
  EXPECT_EQ(enc->key.size(), 32u);
  ASSERT_EQ(enc->ct.authorities.size(), 3u);
  EXPECT_EQ(enc->ct.authorities[1].authority_namespace, "auth1");
  EXPECT_EQ(enc->ct.authorities[1].id, Authority("auth1").id);

  const UserKey alice =
      MakeUser("alice", Attributes("auth0.role:doctor, auth1.licence:active, auth2.ward:er"));
  ASSERT_EQ(alice.by_authority.size(), 3u);
  auto key = Decapsulate(alice, enc->ct);
  ASSERT_TRUE(key.has_value()) << key.error().message();
  EXPECT_TRUE(*key == enc->key);

  // Two encapsulations under one policy give independent keys.
  auto enc2 = Encapsulate(TheWorld().pks, *policy);
  ASSERT_TRUE(enc2.has_value());
  EXPECT_FALSE(enc2->key == enc->key);

  const UserKey bob = MakeUser("bob", Attributes("auth0.role:doctor, auth2.ward:er"));
  auto refused = Decapsulate(bob, enc->ct);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().message(), "the key's attributes do not satisfy the policy");
}

// ---- Property: decryption succeeds exactly when one identity's keys satisfy the policy ----

// A random policy over `authorities` authorities (auth0 ..), at most `max_leaves` leaves, mostly
// plain attributes "authI.aJ" (a universe small enough that random sets satisfy random
// policies about half the time) and now and then a comparison on "authI.level".
std::unique_ptr<PolicyNode> RandomMaPolicy(std::mt19937_64& rng, int authorities, int& leaves_left,
                                           int depth) {
  std::uniform_int_distribution<int> pick_auth(0, authorities - 1), pick_attr(0, 3), coin(0, 99);
  const bool leaf = leaves_left <= 1 || depth >= 3 || coin(rng) < 30;
  if (leaf) {
    --leaves_left;
    const std::string ns = "auth" + std::to_string(pick_auth(rng));
    if (coin(rng) < 6) {
      std::uniform_int_distribution<std::uint64_t> value(1, 8);  // "< 0" is not a valid policy
      return MakeComparisonNode(ns + ".level", coin(rng) < 50 ? PolicyNode::Op::kGe : PolicyNode::Op::kLt,
                                value(rng));
    }
    return MakeAttributeNode(ns + ".a" + std::to_string(pick_attr(rng)));
  }
  std::uniform_int_distribution<int> pick_children(2, 4);
  const int n = std::min(pick_children(rng), leaves_left);
  std::vector<std::unique_ptr<PolicyNode>> children;
  for (int i = 0; i < n && leaves_left > 0; ++i)
    children.push_back(RandomMaPolicy(rng, authorities, leaves_left, depth + 1));
  if (children.size() == 1) return std::move(children[0]);
  std::uniform_int_distribution<int> pick_k(1, static_cast<int>(children.size()));
  return MakeThresholdNode(pick_k(rng), std::move(children));
}

AttributeSet RandomMaAttributes(std::mt19937_64& rng, int authorities) {
  std::uniform_int_distribution<int> coin(0, 99);
  std::uniform_int_distribution<std::uint64_t> level(0, 8);
  AttributeSet s;
  for (int i = 0; i < authorities; ++i) {
    const std::string ns = "auth" + std::to_string(i);
    for (int j = 0; j < 4; ++j)
      if (coin(rng) < 65) s.attributes.insert(ns + ".a" + std::to_string(j));
    if (coin(rng) < 70) s.numeric[ns + ".level"] = level(rng);
  }
  return s;
}

TEST(MaabeProperty, DecryptsExactlyWhenOneIdentitySatisfiesThePolicy) {
  std::mt19937_64 rng(20261122);
  int opened = 0, refused = 0, cases = 0;
  for (int p = 0; p < 60; ++p) {
    const int authorities = 2 + p % 4;  // 2 ..= 5
    int leaves = 30;
    std::uniform_int_distribution<int> budget(4, 30);
    leaves = budget(rng);
    auto policy = RandomMaPolicy(rng, authorities, leaves, 0);
    ASSERT_TRUE(ValidatePolicy(*policy).has_value()) << PolicyToString(*policy);
    ASSERT_LE(testing::CountLeaves(*policy), 30u);
    auto enc = Encapsulate(TheWorld().pks, *policy);
    ASSERT_TRUE(enc.has_value()) << enc.error().message();
    for (int u = 0; u < 4; ++u) {
      const AttributeSet attrs = RandomMaAttributes(rng, authorities);
      const bool expected = testing::IndependentlySatisfies(*policy, attrs);
      const UserKey user = MakeUser("user-" + std::to_string(p) + "-" + std::to_string(u), attrs);
      auto key = Decapsulate(user, enc->ct);
      // The same with the key's G2 lines precomputed.
      auto prepared_key = Decapsulate(PreparedUserKey(user), enc->ct);
      ++cases;
      if (expected) {
        ++opened;
        ASSERT_TRUE(key.has_value()) << PolicyToString(*policy) << " / " << AttributeSetToString(attrs);
        EXPECT_TRUE(*key == enc->key) << PolicyToString(*policy);
        ASSERT_TRUE(prepared_key.has_value());
        EXPECT_TRUE(*prepared_key == enc->key);
      } else {
        ++refused;
        EXPECT_FALSE(key.has_value()) << PolicyToString(*policy) << " / " << AttributeSetToString(attrs);
        EXPECT_FALSE(prepared_key.has_value());
      }
    }
  }
  std::printf("[ stats    ] %d cases: %d opened, %d refused\n", cases, opened, refused);
  // Both outcomes are well represented (else the test would prove little).
  EXPECT_GT(opened, cases / 5) << opened << " of " << cases;
  EXPECT_GT(refused, cases / 5);
}

// ---- Collusion across identities ----

TEST(MaabeCollusion, TwoIdentitiesCannotPoolKeys) {
  const auto policy = Policy("auth0.role:doctor AND auth1.licence:active");
  auto enc = Encapsulate(TheWorld().pks, *policy);
  ASSERT_TRUE(enc.has_value());
  const UserKey alice = MakeUser("alice", Attributes("auth0.role:doctor"));
  const UserKey bob = MakeUser("bob", Attributes("auth1.licence:active"));
  EXPECT_FALSE(Decapsulate(alice, enc->ct).has_value());
  EXPECT_FALSE(Decapsulate(bob, enc->ct).has_value());

  // The API refuses to merge them ...
  UserKey pooled = alice;
  auto merged = AddKeys(pooled, bob.by_authority.at("auth1"));
  ASSERT_FALSE(merged.has_value());
  EXPECT_EQ(merged.error().message(),
            "keys issued to identity \"bob\" cannot join a key of identity \"alice\"");

  // ... and forcing it (relabelling bob's keys as alice's, or alice's as bob's) yields a wrong
  // key: the H(GID) terms of the two identities do not cancel.
  for (const auto* victim : {&alice, &bob}) {
    const UserKey& other = victim == &alice ? bob : alice;
    UserKey forged = *victim;
    for (const auto& [ns, keys] : other.by_authority) {
      AuthorityKeys relabelled = keys;
      relabelled.gid = victim->gid;
      ASSERT_TRUE(AddKeys(forged, relabelled).has_value());
    }
    auto key = Decapsulate(forged, enc->ct);
    ASSERT_TRUE(key.has_value());    // the attributes "satisfy" the policy ...
    EXPECT_FALSE(*key == enc->key);  // ... but the pooled keys do not open it
  }

  // The same identity's keys from the two authorities do open it.
  const UserKey carol = MakeUser("carol", Attributes("auth0.role:doctor, auth1.licence:active"));
  auto key = Decapsulate(carol, enc->ct);
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(*key == enc->key);
}

TEST(MaabeCollusion, ThresholdPoolingAlsoFails) {
  // 2 of 3 over three authorities: alice has one, bob has another.
  const auto policy = Policy("2 of (auth0.a0, auth1.a0, auth2.a0)");
  auto enc = Encapsulate(TheWorld().pks, *policy);
  ASSERT_TRUE(enc.has_value());
  const UserKey alice = MakeUser("alice", Attributes("auth0.a0"));
  const UserKey bob = MakeUser("bob", Attributes("auth2.a0"));
  UserKey forged = alice;
  AuthorityKeys relabelled = bob.by_authority.at("auth2");
  relabelled.gid = "alice";
  ASSERT_TRUE(AddKeys(forged, relabelled).has_value());
  auto key = Decapsulate(forged, enc->ct);
  ASSERT_TRUE(key.has_value());
  EXPECT_FALSE(*key == enc->key);
}

// ---- A corrupted authority ----

TEST(MaabeCorruptedAuthority, CannotSupplyAnAttributeOfAnHonestAuthority) {
  // auth0 is corrupted: the attacker has its master key and issues itself any auth0 key it
  // likes; it also honestly holds auth1.a1, but the policy needs auth1.a0.
  const auto policy = Policy("auth0.a0 AND auth1.a0");
  auto enc = Encapsulate(TheWorld().pks, *policy);
  ASSERT_TRUE(enc.has_value());
  const AuthorityKeyPair& corrupted = Authority("auth0");
  const std::string gid = "mallory";

  UserKey mallory = MakeUser(gid, Attributes("auth0.a0, auth1.a1"));
  EXPECT_FALSE(Decapsulate(mallory, enc->ct).has_value());

  // 1. Use the corrupted master key to mint "auth1.a0" as if it were auth1's key.
  AuthorityKeyPair impostor = corrupted;
  impostor.pk.authority_namespace = "auth1";
  impostor.msk.authority_namespace = "auth1";
  impostor.id = *AuthorityId(impostor.pk);
  auto minted = KeyGen(impostor, gid, {"auth1.a0"});
  ASSERT_TRUE(minted.has_value());
  AuthorityKeys claimed = *minted;
  claimed.authority_id = Authority("auth1").id;  // claim it came from the real auth1
  UserKey forged = mallory;
  ASSERT_TRUE(AddKeys(forged, claimed).has_value());
  auto key = Decapsulate(forged, enc->ct);
  ASSERT_TRUE(key.has_value());
  EXPECT_FALSE(*key == enc->key);
  // VerifyKeys, run by anyone holding auth1's public key, exposes the forgery.
  auto check = VerifyKeys(Authority("auth1").pk, claimed);
  ASSERT_FALSE(check.has_value());
  EXPECT_EQ(check.error().code(), ErrorCode::kIntegrity);

  // 2. Mint keys under the corrupted authority for many identities and pool them with the
  //    honest auth1.a1 keys of each: still nothing without auth1.a0.
  for (const char* other : {"m1", "m2"}) {
    UserKey u = MakeUser(other, Attributes("auth1.a1"));
    auto own = KeyGen(corrupted, other, {"auth0.a0", "auth0.a1", "auth0.a2"});
    ASSERT_TRUE(own.has_value());
    ASSERT_TRUE(AddKeys(u, *own).has_value());
    EXPECT_FALSE(Decapsulate(u, enc->ct).has_value());
  }

  // 3. A policy that the corrupted authority alone satisfies is of course open to it.
  auto own_policy = Encapsulate(TheWorld().pks, *Policy("auth0.a0 OR auth1.a0"));
  ASSERT_TRUE(own_policy.has_value());
  auto opened = Decapsulate(mallory, own_policy->ct);
  ASSERT_TRUE(opened.has_value());
  EXPECT_TRUE(*opened == own_policy->key);
}

// ---- Authorities come and go ----

TEST(MaabeAuthorities, NewAuthorityChangesNothingAndNoneIsNeededToDecrypt) {
  std::vector<AuthorityPublicKey> two = {Authority("auth0").pk, Authority("auth1").pk};
  auto old_ct = Encapsulate(two, *Policy("auth0.a0 AND auth1.a0"));
  ASSERT_TRUE(old_ct.has_value());
  const UserKey user = MakeUser("dana", Attributes("auth0.a0, auth1.a0"));

  // A new authority joins: its own independent setup, nothing else touched.
  auto newcomer = AuthoritySetup("pharmacy_z");
  ASSERT_TRUE(newcomer.has_value());
  std::vector<AuthorityPublicKey> three = two;
  three.push_back(newcomer->pk);
  auto new_ct = Encapsulate(three, *Policy("auth0.a0 AND (auth1.a0 OR pharmacy_z.dispense)"));
  ASSERT_TRUE(new_ct.has_value());
  // The old key opens the old and the new ciphertext (the decryptor never talks to an
  // authority: they can all be offline).
  auto k1 = Decapsulate(user, old_ct->ct);
  auto k2 = Decapsulate(user, new_ct->ct);
  ASSERT_TRUE(k1 && k2);
  EXPECT_TRUE(*k1 == old_ct->key);
  EXPECT_TRUE(*k2 == new_ct->key);
  // And a key from the newcomer adds to the same identity's key.
  UserKey extended = MakeUser("erin", Attributes("auth0.a0"));
  auto z = KeyGen(*newcomer, "erin", {"pharmacy_z.dispense"});
  ASSERT_TRUE(z.has_value());
  ASSERT_TRUE(AddKeys(extended, *z).has_value());
  auto k3 = Decapsulate(extended, new_ct->ct);
  ASSERT_TRUE(k3.has_value());
  EXPECT_TRUE(*k3 == new_ct->key);
}

TEST(MaabeAuthorities, NestedNamespacesGoToTheMostSpecificAuthority) {
  auto parent = AuthoritySetup("hospital_a");
  auto child = AuthoritySetup("hospital_a.cardiology");
  ASSERT_TRUE(parent && child);
  const std::vector<AuthorityPublicKey> pks = {parent->pk, child->pk};
  auto enc = Encapsulate(pks, *Policy("hospital_a.role:doctor AND hospital_a.cardiology.role:attending"));
  ASSERT_TRUE(enc.has_value());
  auto owners = RowAuthorities(enc->ct);
  ASSERT_TRUE(owners.has_value());
  ASSERT_EQ(enc->ct.authorities.size(), 2u);
  EXPECT_EQ(enc->ct.authorities[(*owners)[0]].authority_namespace, "hospital_a");
  EXPECT_EQ(enc->ct.authorities[(*owners)[1]].authority_namespace, "hospital_a.cardiology");

  UserKey user{"gina", {}};
  auto from_parent = KeyGen(*parent, "gina", {"hospital_a.role:doctor"});
  auto from_child = KeyGen(*child, "gina", {"hospital_a.cardiology.role:attending"});
  ASSERT_TRUE(from_parent && from_child);
  ASSERT_TRUE(AddKeys(user, *from_parent).has_value());
  // The parent may not issue the child's attribute to stand in for it: it is under the
  // child's key in the ciphertext.
  auto parent_minted = KeyGen(*parent, "gina", {"hospital_a.cardiology.role:attending"});
  ASSERT_TRUE(parent_minted.has_value());  // in its namespace, so KeyGen allows it ...
  UserKey with_parent_minted = user;
  ASSERT_TRUE(AddKeys(with_parent_minted, *parent_minted).has_value());
  EXPECT_FALSE(Decapsulate(with_parent_minted, enc->ct).has_value());  // ... but it opens nothing
  ASSERT_TRUE(AddKeys(user, *from_child).has_value());
  auto key = Decapsulate(user, enc->ct);
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(*key == enc->key);
}

TEST(MaabeAuthorities, KeysOfAReplacedAuthorityKeyDoNotApply) {
  auto v1 = AuthoritySetup("lab");
  auto v2 = AuthoritySetup("lab");
  ASSERT_TRUE(v1 && v2);
  auto enc = Encapsulate(std::vector{v2->pk}, *Policy("lab.tech"));
  ASSERT_TRUE(enc.has_value());
  UserKey user{"hal", {}};
  auto old_key = KeyGen(*v1, "hal", {"lab.tech"});
  ASSERT_TRUE(old_key.has_value());
  ASSERT_TRUE(AddKeys(user, *old_key).has_value());
  EXPECT_FALSE(Decapsulate(user, enc->ct).has_value());
  auto new_key = KeyGen(*v2, "hal", {"lab.tech"});
  ASSERT_TRUE(new_key.has_value());
  auto clash = AddKeys(user, *new_key);
  ASSERT_FALSE(clash.has_value());
  EXPECT_NE(clash.error().message().find("under another authority public key"), std::string::npos);
}

// ---- Key checks, merging, larger key requests ----

TEST(MaabeKeys, VerifyMergeAndParallelKeyGen) {
  // 12 attributes in one request (above the threshold where KeyGen splits its work over the
  // worker threads): every key verifies and they open a 12-leaf AND.
  std::set<std::string> many;
  std::string text;
  for (int i = 0; i < 12; ++i) {
    many.insert("auth2.p" + std::to_string(i));
    text += (i ? " AND " : "") + std::string("auth2.p") + std::to_string(i);
  }
  auto keys = KeyGen(Authority("auth2"), "nia", many);
  ASSERT_TRUE(keys.has_value());
  EXPECT_TRUE(VerifyKeys(Authority("auth2").pk, *keys).has_value());
  auto wrong_pk = VerifyKeys(Authority("auth3").pk, *keys);
  ASSERT_FALSE(wrong_pk.has_value());
  EXPECT_EQ(wrong_pk.error().code(), ErrorCode::kInvalidArgument);
  AuthorityKeys tampered = *keys;
  tampered.attributes.begin()->second.kp = -tampered.attributes.begin()->second.kp;
  EXPECT_EQ(VerifyKeys(Authority("auth2").pk, tampered).error().code(), ErrorCode::kIntegrity);
  UserKey user;  // takes its GID from the first keys added
  ASSERT_TRUE(AddKeys(user, *keys).has_value());
  EXPECT_EQ(user.gid, "nia");
  auto enc = Encapsulate(TheWorld().pks, *Policy(text));
  ASSERT_TRUE(enc.has_value());
  auto key = Decapsulate(user, enc->ct);
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(*key == enc->key);

  // Keys from two KeyGen calls of one authority for one GID merge.
  auto later = KeyGen(Authority("auth0"), "nia", {"auth0.a3"});
  auto earlier = KeyGen(Authority("auth0"), "nia", {"auth0.a1"});
  ASSERT_TRUE(later && earlier);
  ASSERT_TRUE(AddKeys(user, *earlier).has_value());
  ASSERT_TRUE(AddKeys(user, *later).has_value());
  EXPECT_EQ(user.by_authority.at("auth0").attributes.size(), 2u);
  auto both = Encapsulate(TheWorld().pks, *Policy("auth0.a1 AND auth0.a3 AND auth2.p0"));
  ASSERT_TRUE(both.has_value());
  auto k2 = Decapsulate(user, both->ct);
  ASSERT_TRUE(k2.has_value());
  EXPECT_TRUE(*k2 == both->key);

  // Malformed keys are refused by AddKeys.
  AuthorityKeys outside = *earlier;
  outside.attributes.emplace("auth1.x", outside.attributes.begin()->second);
  auto r = AddKeys(user, outside);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("outside its namespace"), std::string::npos);

  // A key pair whose parts disagree does not issue keys.
  AuthorityKeyPair mixed = Authority("auth0");
  mixed.pk = Authority("auth1").pk;
  auto refused = KeyGen(mixed, "nia", {"auth1.a0"});
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("do not belong together"), std::string::npos);
}

// ---- Concurrency: the shared caches (hashed bases, authority tables) under parallel use ----

TEST(MaabeConcurrency, ParallelCallersWhileTheCachesWarm) {
  // Three threads encrypt to and decrypt with fresh attribute names (cold cache entries, tables
  // built at their second use) at the same time; every result must be right.
  std::vector<std::thread> threads;
  threads.reserve(3);
  std::atomic<int> failures{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([t, &failures] {
      for (int round = 0; round < 3; ++round) {
        const std::string a = "auth1.c" + std::to_string(t) + "-" + std::to_string(round % 2);
        const std::string b = "auth4.c" + std::to_string(t);
        std::string text = a;
        text += " AND ";
        text += b;
        auto enc = Encapsulate(TheWorld().pks, *ParsePolicy(text).value());
        UserKey user;
        auto k1 = KeyGen(Authority("auth1"), "worker-" + std::to_string(t), {a});
        auto k2 = KeyGen(Authority("auth4"), "worker-" + std::to_string(t), {b});
        if (!enc || !k1 || !k2 || !AddKeys(user, *k1) || !AddKeys(user, *k2)) {
          ++failures;
          continue;
        }
        auto key = Decapsulate(user, enc->ct);
        if (!key || !(*key == enc->key)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// ---- Refusals ----

TEST(MaabeRefusals, UnknownAuthoritiesAndBadKeyRequests) {
  auto unknown = Encapsulate(TheWorld().pks, *Policy("auth0.a0 AND board.licence:active"));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(unknown.error().message(),
            "policy attribute \"board.licence:active\" belongs to no known authority");

  std::vector<AuthorityPublicKey> twice = {Authority("auth0").pk, Authority("auth0").pk};
  auto dup = Encapsulate(twice, *Policy("auth0.a0"));
  ASSERT_FALSE(dup.has_value());
  EXPECT_NE(dup.error().message().find("two public keys for authority \"auth0\""), std::string::npos);

  auto outside = KeyGen(Authority("auth0"), "ivy", {"auth1.a0"});
  ASSERT_FALSE(outside.has_value());
  EXPECT_EQ(outside.error().message(),
            "key generation: attribute \"auth1.a0\" is not in authority namespace \"auth0\"");
  EXPECT_FALSE(KeyGen(Authority("auth0"), "", {"auth0.a0"}).has_value());
  EXPECT_FALSE(KeyGen(Authority("auth0"), std::string(kMaxGidBytes + 1, 'g'), {"auth0.a0"}).has_value());
  EXPECT_FALSE(KeyGen(Authority("auth0"), "ivy", {}).has_value());

  // A ciphertext whose rows and authorities disagree is refused, not misread.
  auto enc = Encapsulate(TheWorld().pks, *Policy("auth0.a0 AND auth1.a0"));
  ASSERT_TRUE(enc.has_value());
  Ciphertext broken = enc->ct;
  broken.authorities.pop_back();
  const UserKey user = MakeUser("jo", Attributes("auth0.a0, auth1.a0"));
  auto r = Decapsulate(user, broken);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("belongs to none of its authorities"), std::string::npos);
  broken = enc->ct;
  broken.rows.pop_back();
  EXPECT_FALSE(Decapsulate(user, broken).has_value());
}

// ---- Outsourced decryption ----

TEST(MaabeOutsourced, TransformThenOneExponentiation) {
  auto enc = Encapsulate(TheWorld().pks, *Policy("auth0.a0 AND (auth3.a1 OR auth4.a2) AND auth0.level >= 3"));
  ASSERT_TRUE(enc.has_value());
  const UserKey user = MakeUser("kim", Attributes("auth0.a0, auth4.a2, auth0.level=5"));
  auto tkp = MakeTransformKey(user);
  ASSERT_TRUE(tkp.has_value());
  auto partial = Transform(tkp->tk, enc->ct);
  ASSERT_TRUE(partial.has_value()) << partial.error().message();
  auto key = DecryptTransformed(tkp->b, *partial);
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(*key == enc->key);
  // The transformation key alone does not give the key.
  auto wrong = DecryptTransformed(Fr::One(), *partial);
  ASSERT_TRUE(wrong.has_value());
  EXPECT_FALSE(*wrong == enc->key);
  // It is blinded: none of its components equals the user key's.
  const auto& k = user.by_authority.at("auth0").attributes.at("auth0.a0");
  const auto& kt = tkp->tk.blinded.by_authority.at("auth0").attributes.at("auth0.a0");
  EXPECT_NE(k.k, kt.k);
  EXPECT_NE(k.kp, kt.kp);
  // A transformation key padded with another identity's (relabelled, unblinded) keys gives a
  // wrong key, not the right one.
  const UserKey mallory = MakeUser("mallory", Attributes("auth3.a1"));
  auto tk_only_a0 = MakeTransformKey(MakeUser("kim", Attributes("auth0.a0, auth0.level=5")));
  ASSERT_TRUE(tk_only_a0.has_value());
  AuthorityKeys relabelled = mallory.by_authority.at("auth3");
  relabelled.gid = "kim";
  ASSERT_TRUE(AddKeys(tk_only_a0->tk.blinded, relabelled).has_value());
  auto mixed = Transform(tk_only_a0->tk, enc->ct);
  ASSERT_TRUE(mixed.has_value());
  auto mixed_key = DecryptTransformed(tk_only_a0->b, *mixed);
  ASSERT_TRUE(mixed_key.has_value());
  EXPECT_FALSE(*mixed_key == enc->key);
  // And a user who does not satisfy the policy gets the refusal from the cloud.
  const UserKey other = MakeUser("lee", Attributes("auth0.a0"));
  auto tk2 = MakeTransformKey(other);
  ASSERT_TRUE(tk2.has_value());
  EXPECT_FALSE(Transform(tk2->tk, enc->ct).has_value());
}

}  // namespace
}  // namespace cipherchart::abe::maabe
