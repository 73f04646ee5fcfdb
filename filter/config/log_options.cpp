// SPDX-License-Identifier: ISC
#include "filter/config/log_options.hpp"

#include <array>
#include <utility>

namespace arcf::filter {

namespace {

// RFC 5424 §6.2.1 Table 1: the facilities an operator picks for a mail filter.
constexpr std::array<std::pair<std::string_view, unsigned>, 11> facilities = {{
    {"user", 1},
    {"mail", 2},
    {"daemon", 3},
    {"local0", 16},
    {"local1", 17},
    {"local2", 18},
    {"local3", 19},
    {"local4", 20},
    {"local5", 21},
    {"local6", 22},
    {"local7", 23},
}};

} // namespace

std::string_view to_string(LogOptions::Destination d) {
    return d == LogOptions::Destination::syslog ? "syslog" : "stderr";
}

std::string_view facility_name(unsigned code) {
    for (const auto& [name, c] : facilities)
        if (c == code)
            return name;
    return "mail";
}

std::optional<unsigned> facility_code(std::string_view name) {
    for (const auto& [n, c] : facilities)
        if (n == name)
            return c;
    return std::nullopt;
}

} // namespace arcf::filter
