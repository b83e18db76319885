#include "simulator/protocol/enhanced_status.hpp"
