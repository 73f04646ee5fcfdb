// SPDX-License-Identifier: ISC
// ARC test suite loader: multi-document YAML, one scenario per document (format notes:
// shared/notes/arc-test-suite.md §2).
#include "tests/suite/suite_loader.hpp"

#include <algorithm>
#include <cstdlib>

namespace arcf::tests {

std::string suite_dir() {
    if (const char* env = std::getenv("ARC_SUITE_DIR"))
        return env;
    return ARC_SUITE_DIR;
}

std::vector<SuiteScenario> load_suite(const std::string& file) {
    std::vector<SuiteScenario> out;
    for (const auto& doc : YAML::LoadAllFromFile(file)) {
        SuiteScenario sc;
        for (const auto& kv : doc) {
            auto key = kv.first.as<std::string>();
            if (key == "description") {
                sc.description = kv.second.as<std::string>();
            } else if (key == "txt-records") {
                for (const auto& r : kv.second) {
                    std::string v = r.second.as<std::string>();
                    v.erase(std::remove(v.begin(), v.end(), '\n'), v.end());
                    sc.txt[r.first.as<std::string>()] = v;
                }
            } else if (key == "tests") {
                for (const auto& t : kv.second) {
                    SuiteCase c;
                    c.scenario = sc.description;
                    c.id = t.first.as<std::string>();
                    for (const auto& f : t.second)
                        if (f.second.IsScalar())
                            c.fields[f.first.as<std::string>()] = f.second.as<std::string>();
                    c.description = c.fields["description"];
                    // YAML loaders keep the last of duplicated keys (notes §2.1).
                    auto same = [&](const SuiteCase& x) { return x.id == c.id; };
                    sc.cases.erase(std::remove_if(sc.cases.begin(), sc.cases.end(), same),
                                   sc.cases.end());
                    sc.cases.push_back(std::move(c));
                }
            } else if (kv.second.IsScalar()) {
                sc.fields[key] = kv.second.as<std::string>();
            }
        }
        out.push_back(std::move(sc));
    }
    return out;
}

std::string to_crlf(const std::string& s) {
    std::string out;
    out.reserve(s.size() + s.size() / 40);
    for (char c : s) {
        if (c == '\n')
            out.push_back('\r');
        out.push_back(c);
    }
    return out;
}

dns::TxtAnswer suite_lookup(const SuiteScenario& sc, const std::string& name) {
    auto it = sc.txt.find(name);
    if (it == sc.txt.end())
        return dns::TxtAnswer::failed(dns::Status::nxdomain, "NXDOMAIN");
    return dns::TxtAnswer::found({it->second});
}

} // namespace arcf::tests
