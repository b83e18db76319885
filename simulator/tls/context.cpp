#include "simulator/tls/context.hpp"
