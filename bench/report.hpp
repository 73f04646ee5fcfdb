// SPDX-License-Identifier: ISC
// The figures of a bench run: one "BENCH name=..." line each as it is measured, the table at the
// end, the goals of issue #21 met or not, and (--markdown FILE) the same tables in Markdown for
// the README, with the machine, the load and the limits of that run.
#pragma once

#include <string>
#include <vector>

namespace arcf::bench {

/// One figure of the table. `ratio` compares `value` with what bounds it (`bound`).
struct Figure {
    std::string name;
    std::string label;
    double bytes = 0;     ///< message size (0: not a per-message figure)
    double per_s = 0;     ///< messages (or operations) per CPU second
    double mb_per_s = 0;  ///< 10^6 bytes per CPU second
    double limit = 0;     ///< the bound, in the figure's unit
    double ratio = 0;     ///< per_s / limit (or MB/s / SHA-256 MB/s, or RSS / budget)
    std::string bound;    ///< what `limit` is
    double target = 0;    ///< issue #21's goal for the ratio (0: none)
    bool at_most = false; ///< the target is a ceiling (RSS), not a floor
    std::string extra;    ///< more key=value pairs for the machine-readable line

    bool met() const { return at_most ? ratio <= target : ratio >= target; }
};

/// Every figure emitted so far, in order.
const std::vector<Figure>& figures();
/// Records `f` and prints its BENCH line.
void emit(const Figure& f);
/// The table of every figure, then one line "goals: N of M met" (and those not met).
void print_table();
/// The run's figures as Markdown: a line on the machine and the load (`machine`), the table
/// with the goals, and `peers` (a Markdown table, may be empty) after it.
std::string markdown(const std::string& machine, const std::string& peers);

/// "AMD EPYC, 2 cores", the load averages now ("0.42 0.30 0.21"), the compiler and OpenSSL.
std::string cpu_model();
std::string load_average();
std::string build_description();

} // namespace arcf::bench
