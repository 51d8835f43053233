// Tests of the signed authority directory (authority_directory.h): only keys vouched for by a
// certified authority signing key are used, everything else is refused with a clear error.
#include "cipherchart/abe/authority_directory.h"

#include <gtest/gtest.h>

#include <vector>

#include "cipherchart/abe/record.h"

namespace cipherchart::abe {
namespace {

constexpr std::uint64_t kFrom = 1'700'000'000, kTo = 1'900'000'000, kNow = 1'800'000'000;

std::unique_ptr<PolicyNode> Policy(std::string_view text) {
  auto p = ParsePolicy(text);
  EXPECT_TRUE(p.has_value()) << text;
  return p ? std::move(*p) : nullptr;
}

// An authority of the multi-authority scheme with its certificate chain and signed statement.
struct Member {
  Authority authority;
  maabe::AuthorityKeyPair keys;
  KeyStatement statement;
};
Member MakeMember(Authority authority) {
  auto keys = maabe::AuthoritySetup(authority.authority_namespace());
  EXPECT_TRUE(keys.has_value());
  auto statement = SignKeyStatement(keys->pk, authority.signing_key(), kFrom, kTo);
  EXPECT_TRUE(statement.has_value());
  return Member{std::move(authority), std::move(*keys), std::move(*statement)};
}
Member MakeRootMember(std::string_view ns) {
  auto root = Authority::CreateRoot(ns, kFrom, kTo);
  EXPECT_TRUE(root.has_value());
  return MakeMember(std::move(*root));
}

// Two independent root authorities (a hospital and the medical board), both trusted, both in
// the directory.
struct TwoAuthorities {
  Member hospital = MakeRootMember("hospital_a");
  Member board = MakeRootMember("board");
  AuthorityDirectory dir{
      {TrustedRootOf(hospital.authority.certificate()), TrustedRootOf(board.authority.certificate())}};
  TwoAuthorities() {
    EXPECT_TRUE(dir.Add(hospital.authority.chain(), hospital.statement, kNow).has_value());
    EXPECT_TRUE(dir.Add(board.authority.chain(), board.statement, kNow).has_value());
  }
};

TEST(AuthorityDirectory, ResolvesVerifiedKeysAndEncryptsAcrossAuthorities) {
  TwoAuthorities two;
  const Member& hospital = two.hospital;
  const Member& board = two.board;
  const AuthorityDirectory& dir = two.dir;

  const auto policy = Policy("hospital_a.role:doctor AND board.licence:active");
  auto keys = dir.Resolve(*policy, kNow);
  ASSERT_TRUE(keys.has_value()) << keys.error().message();
  ASSERT_EQ(keys->size(), 2u);
  auto enc = dir.Encapsulate(*policy, kNow);
  ASSERT_TRUE(enc.has_value());

  maabe::UserKey user{"dr-7", {}};
  auto hk = maabe::KeyGen(hospital.keys, "dr-7", {"hospital_a.role:doctor"});
  auto bk = maabe::KeyGen(board.keys, "dr-7", {"board.licence:active"});
  ASSERT_TRUE(hk && bk);
  ASSERT_TRUE(maabe::AddKeys(user, *hk) && maabe::AddKeys(user, *bk));
  auto key = maabe::Decapsulate(user, enc->ct);
  ASSERT_TRUE(key.has_value());
  EXPECT_TRUE(*key == enc->key);

  // An unknown namespace is refused by name.
  auto unknown = dir.Encapsulate(*Policy("hospital_a.role:doctor AND pharmacy.x"), kNow);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().message(),
            "policy attribute \"pharmacy.x\": no verified authority for it in the directory");
  // After the statements expire nothing resolves.
  auto late = dir.Resolve(*policy, kTo + 1);
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code(), ErrorCode::kContextMismatch);
}

TEST(AuthorityDirectory, RefusesUnverifiedStatements) {
  Member hospital = MakeRootMember("hospital_a");
  Member rogue = MakeRootMember("hospital_a");  // same namespace, not a trusted root
  AuthorityDirectory dir({TrustedRootOf(hospital.authority.certificate())});

  // An untrusted root.
  auto r = dir.Add(rogue.authority.chain(), rogue.statement, kNow);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kSignerMismatch);

  // The trusted chain with a statement signed by someone else.
  r = dir.Add(hospital.authority.chain(), rogue.statement, kNow);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);
  EXPECT_NE(r.error().message().find("does not verify under its certified signing key"), std::string::npos);

  // A statement swapped to another key after signing.
  KeyStatement tampered = hospital.statement;
  tampered.public_key = rogue.keys.pk;
  r = dir.Add(hospital.authority.chain(), tampered, kNow);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kIntegrity);

  // A properly signed statement about another namespace.
  auto other = maabe::AuthoritySetup("board");
  ASSERT_TRUE(other.has_value());
  auto about_board = SignKeyStatement(other->pk, hospital.authority.signing_key(), kFrom, kTo);
  ASSERT_TRUE(about_board.has_value());
  r = dir.Add(hospital.authority.chain(), *about_board, kNow);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kSignerMismatch);

  // Outside the statement's validity.
  auto early = SignKeyStatement(hospital.keys.pk, hospital.authority.signing_key(), kNow + 10, kTo);
  ASSERT_TRUE(early.has_value());
  r = dir.Add(hospital.authority.chain(), *early, kNow);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kContextMismatch);
  EXPECT_NE(r.error().message().find("not yet valid"), std::string::npos);

  EXPECT_TRUE(dir.entries().empty());  // nothing got in
  ASSERT_TRUE(dir.Add(hospital.authority.chain(), hospital.statement, kNow).has_value());
  EXPECT_EQ(dir.entries().size(), 1u);
}

TEST(AuthorityDirectory, RotationGoesForwardAndTheChainBoundsValidity) {
  Member hospital = MakeRootMember("hospital_a");
  AuthorityDirectory dir({TrustedRootOf(hospital.authority.certificate())});
  ASSERT_TRUE(dir.Add(hospital.authority.chain(), hospital.statement, kNow).has_value());
  // The authority rotates its key: a newer statement replaces the entry ...
  auto v2 = maabe::AuthoritySetup("hospital_a");
  ASSERT_TRUE(v2.has_value());
  auto newer = SignKeyStatement(v2->pk, hospital.authority.signing_key(), kFrom + 100, kTo);
  ASSERT_TRUE(newer.has_value());
  ASSERT_TRUE(dir.Add(hospital.authority.chain(), *newer, kNow).has_value());
  EXPECT_EQ(*maabe::AuthorityId(dir.entries().at("hospital_a").public_key), v2->id);
  // ... the old one, although still signed and valid, cannot come back ...
  auto back = dir.Add(hospital.authority.chain(), hospital.statement, kNow);
  ASSERT_FALSE(back.has_value());
  EXPECT_EQ(back.error().code(), ErrorCode::kContextMismatch);
  EXPECT_NE(back.error().message().find("is not newer"), std::string::npos);
  EXPECT_EQ(*maabe::AuthorityId(dir.entries().at("hospital_a").public_key), v2->id);
  // ... and the same statement again is harmless.
  EXPECT_TRUE(dir.Add(hospital.authority.chain(), *newer, kNow).has_value());

  // A reader keeps its keys under the old and the new authority key (two UserKeys) and opens
  // envelopes from before and after the rotation through one ReaderKeys.
  auto author = envelope::Ed25519SigningKey::Generate();
  ASSERT_TRUE(author.has_value());
  const std::vector<std::uint8_t> payload = {'o', 'k'};
  AuthorityDirectory before({TrustedRootOf(hospital.authority.certificate())});
  ASSERT_TRUE(before.Add(hospital.authority.chain(), hospital.statement, kNow).has_value());
  auto old_envelope =
      SealRecordSection(before, kNow, *Policy("hospital_a.role:nurse"), "r", 1, payload, *author);
  auto new_envelope =
      SealRecordSection(dir, kNow, *Policy("hospital_a.role:nurse"), "r", 2, payload, *author);
  ASSERT_TRUE(old_envelope && new_envelope);
  ReaderKeys reader;
  for (const maabe::AuthorityKeyPair* pair : {&hospital.keys, &*v2}) {
    auto k = maabe::KeyGen(*pair, "nurse-4", {"hospital_a.role:nurse"});
    ASSERT_TRUE(k.has_value());
    maabe::UserKey user;
    ASSERT_TRUE(maabe::AddKeys(user, *k).has_value());
    reader.multi_authority.push_back(user);
  }
  auto opened_old = OpenRecordSection(reader, *old_envelope, author->public_key(), "r", 1);
  auto opened_new = OpenRecordSection(reader, *new_envelope, author->public_key(), "r", 2);
  ASSERT_TRUE(opened_old.has_value()) << opened_old.error().message();
  ASSERT_TRUE(opened_new.has_value()) << opened_new.error().message();
  EXPECT_EQ(opened_new->payload, payload);

  // Two entries for one namespace in one file are refused as a whole.
  const std::vector<DirectoryEntry> twice = {{hospital.authority.chain(), *newer},
                                             {hospital.authority.chain(), hospital.statement}};
  AuthorityDirectory fresh({TrustedRootOf(hospital.authority.certificate())});
  auto r = fresh.AddAll(twice, kNow);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("a second entry for the same namespace"), std::string::npos);
  EXPECT_TRUE(fresh.entries().empty());

  // A statement that outlives the certificate chain is usable only while the chain is valid.
  auto long_lived = SignKeyStatement(v2->pk, hospital.authority.signing_key(), kFrom + 200, kTo + 1'000'000);
  ASSERT_TRUE(long_lived.has_value());
  ASSERT_TRUE(dir.Add(hospital.authority.chain(), *long_lived, kNow).has_value());
  EXPECT_TRUE(dir.Resolve(*Policy("hospital_a.x"), kTo).has_value());
  auto late = dir.Resolve(*Policy("hospital_a.x"), kTo + 10);
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code(), ErrorCode::kContextMismatch);
}

TEST(AuthorityDirectory, SubAuthoritiesAndDirectoryFiles) {
  Member root = MakeRootMember("hospital_a");
  auto sub = root.authority.CreateSubAuthority("hospital_a.cardiology", kFrom, kTo);
  ASSERT_TRUE(sub.has_value());
  Member cardiology = MakeMember(std::move(*sub));
  const std::vector<DirectoryEntry> entries = {{root.authority.chain(), root.statement},
                                               {cardiology.authority.chain(), cardiology.statement}};
  auto file = EncodeDirectory(entries);
  ASSERT_TRUE(file.has_value()) << file.error().message();
  auto parsed = ParseDirectory(*file);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ(*EncodeDirectory(*parsed), *file);

  AuthorityDirectory dir({TrustedRootOf(root.authority.certificate())});
  ASSERT_TRUE(dir.AddAll(*parsed, kNow).has_value());
  auto keys = dir.Resolve(*Policy("hospital_a.role:doctor AND hospital_a.cardiology.ward:ccu"), kNow);
  ASSERT_TRUE(keys.has_value());
  ASSERT_EQ(keys->size(), 2u);

  // One bad entry and the whole file is refused, naming the entry.
  std::vector<DirectoryEntry> bad = *parsed;
  bad[1].statement.signature[0] ^= 1;
  AuthorityDirectory fresh({TrustedRootOf(root.authority.certificate())});
  auto r = fresh.AddAll(bad, kNow);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message().rfind("directory entry 1 (hospital_a.cardiology): ", 0), 0u)
      << r.error().message();
  EXPECT_TRUE(fresh.entries().empty());

  // Decoders: truncations fail with kInvalidEncoding, one extra byte is trailing.
  for (std::size_t n = 0; n < file->size(); n += 7) {
    auto t = ParseDirectory(std::span(file->data(), n));
    ASSERT_FALSE(t.has_value()) << n;
  }
  auto statement = EncodeKeyStatement(root.statement);
  ASSERT_TRUE(statement.has_value());
  auto back = ParseKeyStatement(*statement);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*EncodeKeyStatement(*back), *statement);
  statement->push_back(0);
  auto trailing = ParseKeyStatement(*statement);
  ASSERT_FALSE(trailing.has_value());
  EXPECT_NE(trailing.error().message().find("trailing"), std::string::npos);
}

TEST(MultiAuthorityRecord, SealsThroughTheDirectoryAndOpensWithOneIdentitysKeys) {
  TwoAuthorities two;
  const Member& hospital = two.hospital;
  const Member& board = two.board;
  const AuthorityDirectory& dir = two.dir;
  auto author = envelope::Ed25519SigningKey::Generate();
  ASSERT_TRUE(author.has_value());
  const std::string text = R"({"resourceType":"Observation","status":"final"})";
  const std::vector<std::uint8_t> payload(text.begin(), text.end());
  const auto policy = Policy("hospital_a.role:doctor AND board.licence:active");
  auto sealed = SealRecordSection(dir, kNow, *policy, "record-1/vitals", 3, payload, *author);
  ASSERT_TRUE(sealed.has_value()) << sealed.error().message();

  maabe::UserKey reader{"dr-9", {}};
  auto hk = maabe::KeyGen(hospital.keys, "dr-9", {"hospital_a.role:doctor"});
  auto bk = maabe::KeyGen(board.keys, "dr-9", {"board.licence:active"});
  ASSERT_TRUE(hk && bk && maabe::AddKeys(reader, *hk) && maabe::AddKeys(reader, *bk));
  auto opened = OpenRecordSection(reader, *sealed, author->public_key(), "record-1/vitals", 3);
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  EXPECT_EQ(opened->payload, payload);

  // A reader lacking the board's attribute gets the ABE refusal; a wrong record id the envelope's.
  maabe::UserKey partial{"dr-9", {}};
  ASSERT_TRUE(maabe::AddKeys(partial, *hk));
  auto refused = OpenRecordSection(partial, *sealed, author->public_key(), "record-1/vitals", 3);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().message(), "the key's attributes do not satisfy the policy");
  auto wrong_id = OpenRecordSection(reader, *sealed, author->public_key(), "record-2/vitals", 3);
  ASSERT_FALSE(wrong_id.has_value());
  EXPECT_EQ(wrong_id.error().code(), ErrorCode::kContextMismatch);

  // An unknown authority is refused at sealing time.
  auto unknown = SealRecordSection(dir, kNow, *Policy("pharmacy.x"), "r", 1, payload, *author);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), ErrorCode::kInvalidArgument);

  // A FAME envelope is not read as a multi-authority one.
  auto verified = VerifyChain(hospital.authority.chain(),
                              std::vector{TrustedRootOf(hospital.authority.certificate())}, kNow);
  ASSERT_TRUE(verified.has_value());
  auto fame_sealed =
      SealRecordSection(*verified, *Policy("hospital_a.role:doctor"), "r", 1, payload, *author);
  ASSERT_TRUE(fame_sealed.has_value());
  auto wrong_scheme = OpenRecordSection(reader, *fame_sealed, author->public_key(), "r", 1);
  ASSERT_FALSE(wrong_scheme.has_value());
  EXPECT_EQ(wrong_scheme.error().code(), ErrorCode::kUnsupported);

  // One reader interface for both schemes: the header's scheme id picks the key.
  auto fame_key = hospital.authority.IssueUserKey(*ParseAttributeSet("hospital_a.role:doctor"));
  ASSERT_TRUE(fame_key.has_value());
  ReaderKeys keys;
  keys.fame.push_back(*fame_key);
  keys.multi_authority.push_back(reader);
  auto via_fame = OpenRecordSection(keys, *fame_sealed, author->public_key(), "r", 1);
  ASSERT_TRUE(via_fame.has_value()) << via_fame.error().message();
  EXPECT_EQ(via_fame->payload, payload);
  auto via_multi = OpenRecordSection(keys, *sealed, author->public_key(), "record-1/vitals", 3);
  ASSERT_TRUE(via_multi.has_value()) << via_multi.error().message();
  EXPECT_EQ(via_multi->payload, payload);
  ReaderKeys fame_only;
  fame_only.fame.push_back(*fame_key);
  auto no_multi = OpenRecordSection(fame_only, *sealed, author->public_key(), "record-1/vitals", 3);
  ASSERT_FALSE(no_multi.has_value());
  EXPECT_NE(no_multi.error().message().find("no multi-authority key"), std::string::npos);
  ReaderKeys multi_only;
  multi_only.multi_authority.push_back(reader);
  auto no_fame = OpenRecordSection(multi_only, *fame_sealed, author->public_key(), "r", 1);
  ASSERT_FALSE(no_fame.has_value());
  EXPECT_NE(no_fame.error().message().find("no FAME key"), std::string::npos);
}

}  // namespace
}  // namespace cipherchart::abe
