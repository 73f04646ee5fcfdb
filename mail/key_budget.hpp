// SPDX-License-Identifier: ISC
// The per-message budget of public-key operations (issue 15, class 4): one object shared by the
// ARC chain verifier and the DKIM verifier of one message, so that ARC-Seals,
// ARC-Message-Signatures and DKIM-Signatures together cost at most KeyPolicy::max_key_operations
// verifications, whatever the keys and records an attacker publishes.
#pragma once

#include <cstddef>
#include <memory>

namespace arcf::mail {

class KeyOperationBudget {
  public:
    /// `limit` operations; 0 means no limit.
    explicit KeyOperationBudget(std::size_t limit) : limit_(limit) {}

    /// Takes one operation: false (and nothing taken) when the budget is spent.
    bool take() {
        if (limit_ != 0 && used_ >= limit_) {
            exhausted_ = true;
            return false;
        }
        ++used_;
        return true;
    }
    std::size_t used() const { return used_; }
    std::size_t limit() const { return limit_; }
    /// An operation was refused.
    bool exhausted() const { return exhausted_; }

  private:
    std::size_t limit_;
    std::size_t used_ = 0;
    bool exhausted_ = false;
};

using SharedKeyBudget = std::shared_ptr<KeyOperationBudget>;

} // namespace arcf::mail
