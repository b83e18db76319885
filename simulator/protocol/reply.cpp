#include "simulator/protocol/reply.hpp"
