#include "simulator/tls/base64.hpp"
