// SPDX-License-Identifier: ISC
// The settings of filter-arc.toml, each named once: its table, key, type, allowed values and a
// one-line description, with how it is applied and how it is shown. The loader
// (filter/config/config.cpp) checks keys and types against this table, `check-config --print`
// writes the effective configuration from it, `check-config --schema` prints it for the man-page
// test (tests/docs/man_test.py) and the docs. Defaults live only in the settings structs: the
// default shown for a setting is its value in default settings. No toml++ here.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace arcf::arc {
struct SealKey;
}

namespace arcf::filter {

struct Config;
struct ConfigBuilder;

enum class Kind {
    boolean,
    integer,     ///< not negative, within [min, max]
    string,      ///< free text, checked by the setting itself
    choice,      ///< one of the '|'-separated words of `allowed`
    string_list, ///< ["a", "b"]
    key_tables,  ///< [[seal.keys]]: an array of tables, their settings under table "seal.keys"
};
std::string_view to_string(Kind k);

/// A value of the file, already of the setting's Kind (the loader checked it).
struct SettingValue {
    bool boolean = false;
    std::uint64_t integer = 0;
    std::string text; ///< string and choice
    std::vector<std::string> list;
};

/// Thrown by Setting::set for a value of the right type that is not acceptable; the loader
/// prefixes the file, line and setting name.
struct InvalidValue {
    std::string detail;
};

struct Setting {
    std::string_view table; ///< "" for top-level settings, "seal", "seal.keys", "dns", ...
    std::string_view key;
    Kind kind;
    /// choice: the words, '|'-separated; otherwise a short human description of the range.
    std::string_view allowed;
    std::string_view doc; ///< one line
    std::uint64_t min = 0;
    std::uint64_t max = UINT64_MAX;
    std::string_view why = {}; ///< cited after a range error, e.g. "RFC 8617 §4.2.1"
    void (*set)(ConfigBuilder&, const SettingValue&) = nullptr;
    /// The effective value as a TOML value; `key` is the [[seal.keys]] entry for settings of
    /// that table. Null for settings that --print writes in another form (seal.domain,
    /// seal.selector and seal.key are printed as a [[seal.keys]] table).
    std::string (*show)(const Config&, const arc::SealKey* key) = nullptr;

    std::string name() const; ///< "seal.when", "mode"
};

/// Every setting, grouped by table in the order of tables().
std::span<const Setting> schema();
/// The tables, in file order: "" (top level), "authentication", "seal", "seal.keys", "dns",
/// "limits", "smtpd", "log".
std::span<const std::string_view> tables();
const Setting* find_setting(std::string_view table, std::string_view key);
/// The table of the settings named `key` other than `table` (for the "it belongs to another
/// table" hint), empty when none.
std::vector<std::string_view> tables_with(std::string_view key, std::string_view table);
/// The range of an integer setting, e.g. "1..50 (RFC 8617 §4.2.1)", "at least 1"; an upper
/// bound that is only the field's width (2^31 - 1 and above) is left out.
std::string range_text(const Setting& s);
/// What an error says of `value`, outside [min, max]: range_text(), or "at most MAX" for a
/// value above a bound range_text() leaves out.
std::string out_of_range_text(const Setting& s, std::uint64_t value);
/// The choices of a Kind::choice setting, e.g. {"verify", "seal", "both"}.
std::vector<std::string_view> choices(const Setting& s);

/// A TOML basic string (RFC-less, TOML 1.0 §String): quotes, backslash escapes.
std::string toml_string(std::string_view s);
std::string toml_list(const std::vector<std::string>& v);

/// The settings a file that sets nothing gets, before the checks of a whole file (so `mode` is
/// "both" here; a file without [seal] then verifies only). The defaults that --schema shows.
Config schema_defaults();

/// The schema as tab-separated lines: table, key, type, default, allowed, doc.
std::string schema_dump();

} // namespace arcf::filter
