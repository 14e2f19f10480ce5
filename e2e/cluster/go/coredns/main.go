// CoreDNS for the real node with only the plugins its Corefile uses (COREFILE in e2e/cluster/node/config.ts; a unit
// test keeps the two lists equal). The stock command compiles every plugin CoreDNS ships, with the cloud SDKs of
// route53, azure and clouddns, etcd's client and the tracing libraries: the slowest build of a cold set-up.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/ready"
)

// The plugins in the order CoreDNS's plugin.cfg gives them: the order a query passes through them.
var directives = []string{"ready", "health", "errors", "cache", "kubernetes"}

func init() { dnsserver.Directives = directives }

func main() { coremain.Run() }
