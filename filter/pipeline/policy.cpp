// SPDX-License-Identifier: ISC
// Trust boundary and sealing policy decisions.
#include "filter/pipeline/policy.hpp"

#include "dmarc/from_domain.hpp"

#include <arpa/inet.h>

#include "mail/header.hpp"
#include "text/ascii.hpp"

namespace arcf::filter {

std::optional<Network> Network::parse(std::string_view text) {
    Network n;
    n.text_ = std::string(text);
    std::string addr(text.substr(0, text.find('/')));
    n.v6_ = addr.find(':') != std::string::npos;
    int rc = inet_pton(n.v6_ ? AF_INET6 : AF_INET, addr.c_str(), n.addr_.data());
    if (rc != 1)
        return std::nullopt;
    unsigned max = n.v6_ ? 128 : 32;
    n.prefix_ = max;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        std::string_view p = text.substr(slash + 1);
        if (p.empty() || p.size() > 3)
            return std::nullopt;
        unsigned v = 0;
        for (char c : p) {
            if (c < '0' || c > '9')
                return std::nullopt;
            v = v * 10 + static_cast<unsigned>(c - '0');
        }
        if (v > max)
            return std::nullopt;
        n.prefix_ = v;
    }
    return n;
}

bool Network::contains(std::string_view address) const {
    std::string a(address);
    if (!a.empty() && a.front() == '[' && a.back() == ']')
        a = a.substr(1, a.size() - 2);
    std::array<unsigned char, 16> bytes{};
    bool v6 = a.find(':') != std::string::npos;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, a.c_str(), bytes.data()) != 1)
        return false;
    if (v6 && !v6_) {
        // IPv4-mapped IPv6 (::ffff:a.b.c.d) matches IPv4 networks.
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!std::equal(mapped, mapped + 12, bytes.begin()))
            return false;
        std::copy(bytes.begin() + 12, bytes.end(), bytes.begin());
        v6 = false;
    }
    if (v6 != v6_)
        return false;
    unsigned full = prefix_ / 8, rest = prefix_ % 8;
    for (unsigned i = 0; i < full; ++i)
        if (bytes[i] != addr_[i])
            return false;
    if (rest != 0) {
        auto mask = static_cast<unsigned char>(0xff << (8 - rest));
        if ((bytes[full] & mask) != (addr_[full] & mask))
            return false;
    }
    return true;
}

std::string domain_of(std::string_view address) {
    auto at = address.rfind('@');
    if (at == std::string_view::npos)
        return {};
    std::string_view d = address.substr(at + 1);
    while (!d.empty() && (d.back() == '>' || d.back() == ' ' || d.back() == '.'))
        d.remove_suffix(1);
    return text::to_lower(d);
}

bool is_trusted_client(const Policy& p, const Envelope& e) {
    if (p.trust_authenticated && !e.auth_user.empty())
        return true;
    for (const auto& n : p.trusted_networks)
        if (n.contains(e.client_ip))
            return true;
    return false;
}

bool wants_seal(const Policy& p, const Envelope& e) {
    if (p.mode == Mode::verify || p.keys.empty())
        return false;
    switch (p.seal_when) {
    case SealWhen::all:
        return true;
    case SealWhen::trusted:
        return is_trusted_client(p, e);
    case SealWhen::recipient_domains:
        for (const auto& r : e.rcpts) {
            std::string d = domain_of(r);
            for (const auto& want : p.seal_recipient_domains)
                if (d == want || (d.size() > want.size() &&
                                  d.compare(d.size() - want.size(), want.size(), want) == 0 &&
                                  d[d.size() - want.size() - 1] == '.'))
                    return true;
        }
        return false;
    }
    return false;
}

std::shared_ptr<const arc::SealKey>
choose_key(const Policy& p, const Envelope& e, std::string_view header_from) {
    auto lookup = [&](const std::string& domain) -> std::shared_ptr<const arc::SealKey> {
        // The exact domain, else the closest configured parent domain.
        std::string d = domain;
        while (!d.empty()) {
            if (auto it = p.keys.find(d); it != p.keys.end())
                return it->second;
            auto dot = d.find('.');
            if (dot == std::string::npos)
                break;
            d = d.substr(dot + 1);
        }
        return nullptr;
    };
    std::shared_ptr<const arc::SealKey> k;
    switch (p.domain_source) {
    case DomainSource::fixed:
        break;
    case DomainSource::envelope_from:
        k = lookup(domain_of(e.mail_from));
        break;
    case DomainSource::header_from:
        // The author domain exactly as DMARC determines it (RFC 7489 §6.6.1 with the RFC 5322
        // §3.4 address grammar): one parser, so the key we seal with always names the domain
        // DMARC evaluates. A From that DMARC cannot use (no single domain) picks no key here.
        if (auto d = dmarc::author_domain(header_from))
            k = lookup(*d);
        break;
    case DomainSource::recipient:
        for (const auto& r : e.rcpts)
            if ((k = lookup(domain_of(r))))
                break;
        break;
    }
    if (!k) {
        auto it = p.keys.find(p.default_domain);
        if (it != p.keys.end())
            k = it->second;
    }
    return k;
}

std::string_view to_string(Mode m) {
    return m == Mode::verify ? "verify" : m == Mode::seal ? "seal" : "both";
}
std::string_view to_string(SealWhen s) {
    return s == SealWhen::all ? "all" : s == SealWhen::trusted ? "trusted" : "recipient-domains";
}
std::string_view to_string(DomainSource d) {
    switch (d) {
    case DomainSource::fixed:
        return "fixed";
    case DomainSource::envelope_from:
        return "envelope-from";
    case DomainSource::header_from:
        return "header-from";
    case DomainSource::recipient:
        return "recipient";
    }
    return "fixed";
}

} // namespace arcf::filter
