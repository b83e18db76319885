#include "simulator/tls/fingerprint.hpp"
