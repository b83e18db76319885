#include "simulator/tls/pki.hpp"
