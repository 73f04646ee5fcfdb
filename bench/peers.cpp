// SPDX-License-Identifier: ISC
// Runs bench/peers_dkimpy.py and bench/peers_mail_dkim.pl as child processes (they inherit the
// bench's CPU affinity: the same core as our figures) on files written to a private directory.
#include "bench/peers.hpp"

#include "arc/chain.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace arcf::bench {

namespace {

struct Peer {
    std::string name;   ///< as the script prints it
    std::string label;  ///< table column
    std::string probe;  ///< exits 0 when the peer is installed
    std::string runner; ///< interpreter and script
};

std::vector<Peer> peers() {
    const std::string dir = ARCF_PEERS_DIR;
    return {
        {"dkimpy", "dkimpy", "/usr/bin/python3 -I -c 'import dkim.crypto, authres' 2>/dev/null",
         "/usr/bin/python3 -I '" + dir + "/peers_dkimpy.py'"},
        {"mail-dkim", "Mail::DKIM",
         "/usr/bin/perl -MMail::DKIM::ARC::Signer -MMail::DKIM::ARC::Verifier -e1 2>/dev/null",
         "/usr/bin/perl '" + dir + "/peers_mail_dkim.pl'"},
    };
}

void write(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out)
        throw std::runtime_error("cannot write " + path);
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The value of "key=" in a "PEER ..." line ("" when absent).
std::string field(const std::string& line, const std::string& key) {
    auto at = line.find(" " + key + "=");
    if (at == std::string::npos)
        return {};
    at += key.size() + 2;
    return line.substr(at, line.find(' ', at) - at);
}

struct Measured {
    double per_s = 0;
    std::string problem; ///< empty: the figure is valid
};

const char* const figure_names[] = {"seal_4k", "verify1_4k", "verify1_10m"};
const char* const figure_labels[] = {"seal i=1, 4 KiB", "verify 1-set chain, 4 KiB",
                                     "verify 1-set chain, 10 MiB"};

} // namespace

bool run_peers(const PeerCorpus& corpus,
               const KeyRing& ring,
               const std::map<std::string, double>& ours,
               double seconds,
               std::string* markdown) {
    std::string tmpl = std::filesystem::temp_directory_path() / "filter-arc-peers-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr)
        throw std::runtime_error("mkdtemp failed");
    const std::string dir = tmpl;
    struct Cleanup {
        std::string d;
        ~Cleanup() {
            std::error_code ec;
            std::filesystem::remove_all(d, ec);
        }
    } cleanup{dir};
    // The peers seal as hop1.example (its key is in the zone) the message our seal figure seals,
    // with the Authentication-Results both need to make an AAR from (our filter writes its own).
    write(dir + "/seal.eml",
          "Authentication-Results: bench.test; arc=none; spf=pass smtp.mailfrom=example.org\r\n" +
              corpus.seal_4k);
    write(dir + "/verify1_4k.eml", corpus.verify1_4k);
    write(dir + "/verify1_10m.eml", corpus.verify1_10m);
    write(dir + "/key.pem", ring.hops.at(0)->key.to_pem());
    std::string zone;
    for (const auto& [name, answer] : ring.answers)
        zone += name.dns_name() + "\t" + answer.records.at(0) + "\n";
    write(dir + "/zone.txt", zone);

    std::map<std::string, std::map<std::string, Measured>> got; // peer -> figure -> measured
    std::vector<Peer> ran;
    bool ok = true;
    for (const auto& p : peers()) {
        if (std::system(p.probe.c_str()) != 0) {
            std::printf("peers: %s is not installed, skipped\n", p.label.c_str());
            continue;
        }
        ran.push_back(p);
        const std::string cmd = p.runner + " '" + dir + "' " + std::to_string(seconds) + " 2>'" +
                                dir + "/" + p.name + ".err'";
        std::FILE* f = popen(cmd.c_str(), "r");
        if (f == nullptr)
            throw std::runtime_error("cannot run " + p.runner);
        char buf[1024];
        while (std::fgets(buf, sizeof buf, f) != nullptr) {
            std::string line(buf);
            while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
                line.pop_back();
            if (line.rfind("PEER ", 0) != 0)
                continue;
            std::printf("%s\n", line.c_str());
            std::fflush(stdout);
            Measured m;
            m.per_s = std::atof(field(line, "per_s").c_str());
            const std::string result = field(line, "result");
            if (result != "pass" && result != "ok")
                m.problem = "the peer says " + result;
            got[p.name][field(line, "figure")] = m;
        }
        const int status = pclose(f);
        if (status != 0) {
            std::printf("peers: %s exited with status %d: %s\n", p.label.c_str(), status,
                        slurp(dir + "/" + p.name + ".err").substr(0, 400).c_str());
            ok = false;
        }
        // The other direction: our verifier on the peer's seal.
        const std::string sealed = slurp(dir + "/" + p.name + "-sealed.eml");
        arc::VerifyOptions vo;
        vo.now = corpus_time;
        auto lookup = [&ring](const mail::KeyName& n) -> const dns::TxtAnswer& {
            static const dns::TxtAnswer missing =
                dns::TxtAnswer::failed(dns::Status::nxdomain, "none");
            auto it = ring.answers.find(n);
            return it == ring.answers.end() ? missing : it->second;
        };
        auto r = arc::verify_message(sealed, vo, lookup);
        const bool theirs_pass = r.status == arc::ChainStatus::pass && r.sets == 1;
        std::printf("PEER peer=%s figure=our_verify_of_their_seal arc=%s sets=%u reason=\"%s\"\n",
                    p.name.c_str(), std::string(arc::to_string(r.status)).c_str(), r.sets,
                    r.reason.c_str());
        if (!theirs_pass)
            got[p.name]["seal_4k"].problem =
                "filter-arc does not verify its seal: arc=" + std::string(arc::to_string(r.status));
    }
    if (ran.empty())
        return true;

    std::printf("\npeers: msgs per CPU second, one process each, same core, same corpus; DNS from "
                "memory\n%-28s %11s",
                "figure", "filter-arc");
    for (const auto& p : ran)
        std::printf(" %11s %9s", p.label.c_str(), "ours/it");
    std::printf("\n");
    std::string md = "| figure | filter-arc msgs/s |";
    std::string rule = "|---|---:|";
    for (const auto& p : ran) {
        md += " " + p.label + " msgs/s | filter-arc / " + p.label + " |";
        rule += "---:|---:|";
    }
    md += "\n" + rule + "\n";
    char cell[64];
    for (std::size_t i = 0; i < std::size(figure_names); ++i) {
        auto it = ours.find(figure_names[i]);
        const double our = it == ours.end() ? 0 : it->second;
        char our_s[32] = "-";
        if (our > 0)
            std::snprintf(our_s, sizeof our_s, "%.1f", our);
        std::printf("%-28s %11s", figure_labels[i], our_s);
        md += std::string("| ") + figure_labels[i] + " | " + our_s + " |";
        for (const auto& p : ran) {
            auto m = got[p.name].find(figure_names[i]);
            if (m == got[p.name].end() || m->second.per_s <= 0) {
                std::printf(" %11s %9s", "missing", "-");
                md += " missing | - |";
                ok = false;
            } else if (!m->second.problem.empty()) {
                std::printf(" %11.1f %9s", m->second.per_s, "INVALID");
                std::snprintf(cell, sizeof cell, " %.1f | invalid |", m->second.per_s);
                md += cell;
                ok = false;
            } else if (our > 0) {
                std::printf(" %11.1f %8.1fx", m->second.per_s, our / m->second.per_s);
                std::snprintf(cell, sizeof cell, " %.1f | %.1fx |", m->second.per_s,
                              our / m->second.per_s);
                md += cell;
            } else {
                std::printf(" %11.1f %9s", m->second.per_s, "-");
                std::snprintf(cell, sizeof cell, " %.1f | - |", m->second.per_s);
                md += cell;
            }
        }
        std::printf("\n");
        md += "\n";
    }
    if (markdown != nullptr)
        *markdown += "Peers in the same run (messages per CPU second, one process each, same "
                     "core, same corpus, DNS from memory):\n\n" +
                     md;
    for (const auto& p : ran)
        for (const auto& [figure, m] : got[p.name])
            if (!m.problem.empty())
                std::printf("peers: %s %s INVALID: %s\n", p.label.c_str(), figure.c_str(),
                            m.problem.c_str());
    return ok;
}

} // namespace arcf::bench
