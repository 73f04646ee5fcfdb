// SPDX-License-Identifier: ISC
// RFC 8601 §2.7.1 dkim= results for Authentication-Results.
#include "dkim/resinfo.hpp"

namespace arcf::dkim {

ResInfo dkim_resinfo(const DkimSignatureResult& r) {
    ResInfo out;
    out.method = "dkim";
    out.result = std::string(to_string(r.result));
    if (!r.reason.empty() && (r.result != DkimResult::pass || r.body_partial))
        out.reason = r.reason;
    auto add = [&](const char* property, const std::string& value) {
        if (!value.empty())
            out.properties.push_back(AuthProperty{"header", property, value});
    };
    add("d", r.domain);
    add("i", r.identity);
    add("s", r.selector);
    add("a", r.algorithm);
    add("b", r.header_b); // RFC 6008 §4
    return out;
}

ResInfo dkim_none_resinfo() {
    ResInfo out;
    out.method = "dkim";
    out.result = "none";
    return out;
}

std::vector<ResInfo> dkim_resinfos(const std::vector<DkimSignatureResult>& results) {
    std::vector<ResInfo> out;
    for (const auto& r : results)
        out.push_back(dkim_resinfo(r));
    if (out.empty())
        out.push_back(dkim_none_resinfo());
    return out;
}

} // namespace arcf::dkim
