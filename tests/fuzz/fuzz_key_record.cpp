// SPDX-License-Identifier: ISC
// Fuzz target: DKIM public key records (mail/key_record.hpp), RSA and Ed25519 keys through
// OpenSSL. The input is one TXT record; records separated by NUL bytes form a whole answer.
#include "tests/fuzz/fuzz.hpp"

#include <string>
#include <vector>

#include "mail/key_record.hpp"

using namespace arcf;
using arcf::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_text(data, size);
    mail::KeyPolicy policy;
    policy.min_rsa_bits = 512; // let small keys through to reach the verify path cheaply
    policy.max_rsa_bits = 4096;
    auto rec = mail::parse_key_record(text, policy);
    if (rec) {
        check(rec->key.type() == mail::KeyType::ed25519 || rec->key.bits() >= policy.min_rsa_bits,
              "RSA key below the policy minimum accepted");
        check(rec->key.bits() <= policy.max_rsa_bits, "key above the policy maximum accepted");
        // A garbage signature never verifies (and must not crash OpenSSL).
        mail::Digest d{};
        check(!rec->key.verify(d, std::string(64, 'x')), "garbage signature verified");
        check(!rec->key.verify(d, {}), "empty signature verified");
    }
    std::vector<std::string> records;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto nul = text.find('\0', pos);
        records.emplace_back(text.substr(pos, nul == std::string_view::npos ? nul : nul - pos));
        if (nul == std::string_view::npos)
            break;
        pos = nul + 1;
    }
    mail::Error err;
    auto keys = mail::parse_key_records(records, mail::KeyPolicy{}, &err);
    check(keys.size() <= records.size(), "more keys than records");
    return 0;
}
