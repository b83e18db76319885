#include "simulator/reference/sasl.hpp"

#include <array>
#include <cstddef>
#include <stdexcept>

#include <openssl/evp.h>

namespace smtpsim::reference {

std::string cram_md5_digest(std::string_view secret, std::string_view challenge) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  std::size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "MD5", nullptr, secret.data(), secret.size(),
                reinterpret_cast<const unsigned char*>(challenge.data()), challenge.size(),
                mac.data(), mac.size(), &len) == nullptr) {
    throw std::runtime_error("HMAC-MD5 is not available");
  }
  static constexpr std::string_view hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (std::size_t i = 0; i < len; ++i) {
    out.push_back(hex[mac.at(i) >> 4U]);
    out.push_back(hex[mac.at(i) & 0x0FU]);
  }
  return out;
}

}  // namespace smtpsim::reference
