# JupyterHub + KubeSpawner for `npm run bench:spawn` (the peer skyport is compared with): the hub runs on this
# machine, listens on the real node's bridge address, and spawns the same JupyterLab image on the same real
# node. Everything comes from the environment the bench sets (SPAWN_BENCH_*).
import os

from jupyterhub.proxy import Proxy

env = os.environ


class RouteTableProxy(Proxy):
    """A proxy that only keeps the route table: the bench reaches each lab's pod directly, as it does for
    skyport, so no configurable-http-proxy process is needed (adding a route there takes milliseconds)."""

    should_start = False
    routes = {}

    async def add_route(self, routespec, target, data):
        self.routes[routespec] = {"routespec": routespec, "target": target, "data": data}

    async def delete_route(self, routespec):
        self.routes.pop(routespec, None)

    async def get_all_routes(self):
        return dict(self.routes)


c = get_config()  # noqa: F821 (defined by JupyterHub when it loads this file)
state = env["SPAWN_BENCH_STATE_DIR"]
c.JupyterHub.proxy_class = RouteTableProxy
c.JupyterHub.hub_bind_url = env["SPAWN_BENCH_HUB_URL"]
c.JupyterHub.db_url = f"sqlite:///{state}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{state}/cookie_secret"
c.JupyterHub.pid_file = f"{state}/jupyterhub.pid"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.services = [{"name": "bench", "api_token": env["SPAWN_BENCH_TOKEN"]}]
c.JupyterHub.load_roles = [
    {"name": "bench", "services": ["bench"], "scopes": ["admin:users", "admin:servers", "read:users"]}
]
# No limit on concurrent spawns below the bench's own.
c.JupyterHub.concurrent_spawn_limit = 0
c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"

c.KubeSpawner.namespace = env["SPAWN_BENCH_NAMESPACE"]
c.KubeSpawner.image = env["SPAWN_BENCH_IMAGE"]
c.KubeSpawner.image_pull_policy = "IfNotPresent"
c.KubeSpawner.node_selector = {"type": "real"}
c.KubeSpawner.uid = 1000
c.KubeSpawner.gid = 100
c.KubeSpawner.fs_gid = 100
c.KubeSpawner.cpu_guarantee = 0.01
c.KubeSpawner.mem_guarantee = "64M"
c.KubeSpawner.mem_limit = "1G"
c.KubeSpawner.start_timeout = 300
c.KubeSpawner.http_timeout = 300
c.KubeSpawner.port = 8888
# The image has JupyterLab but not jupyterhub-singleuser (the same image skyport runs): start the plain server
# under the prefix the hub routes to. KubeSpawner appends its own arguments; `sh -c` ignores them.
c.KubeSpawner.cmd = [
    "sh",
    "-c",
    'exec jupyter lab --no-browser --ServerApp.ip=0.0.0.0 --ServerApp.port=8888 '
    '--ServerApp.base_url="$JUPYTERHUB_SERVICE_PREFIX" --IdentityProvider.token="$SPAWN_BENCH_LAB_TOKEN"',
]
c.KubeSpawner.environment = {"SPAWN_BENCH_LAB_TOKEN": env["SPAWN_BENCH_LAB_TOKEN"]}
# zero-to-jupyterhub's default singleuser.storage (type: dynamic): a claim per user from the default StorageClass,
# made by the spawner at the user's first start and mounted as the home, like a NotebookLab's home claim. The size
# is the bench profile's (1Gi) instead of z2jh's 10Gi; the local provisioner ignores it.
c.KubeSpawner.storage_pvc_ensure = True
c.KubeSpawner.pvc_name_template = "claim-{user_server}"
c.KubeSpawner.storage_capacity = "1Gi"
c.KubeSpawner.storage_access_modes = ["ReadWriteOnce"]
c.KubeSpawner.volumes = [{"name": "volume-{user_server}", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}]
c.KubeSpawner.volume_mounts = [{"mountPath": "/home/jovyan", "name": "volume-{user_server}"}]
