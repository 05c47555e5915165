import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** An established TCP connection of a process, by ports on the loopback (IPv4 or IPv6). */
export interface TcpConnection {
  localPort: number;
  remotePort: number;
}

/** The socket inodes a process holds open (its /proc/PID/fd links `socket:[INODE]`). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes; // the process has ended
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/**
 * The established TCP connections of process `pid`, read from /proc (what `ss -tnp` shows, without needing ss):
 * which broker port a client is connected to, and from which local port.
 */
export function tcpConnections(pid: number): TcpConnection[] {
  const inodes = socketInodes(pid);
  const connections: TcpConnection[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[] = [];
    try {
      lines = readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      const [, local, remote, state] = fields;
      const inode = fields[9];
      if (!local || !remote || state !== '01' || !inode || !inodes.has(inode)) continue;
      const port = (address: string) => Number.parseInt(address.split(':').at(-1) ?? '', 16);
      connections.push({ localPort: port(local), remotePort: port(remote) });
    }
  }
  return connections;
}
