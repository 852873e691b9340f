/** Wire shapes of the game-server routes (context, self-stop) and of container logs and metrics. */
import { Type, type Static } from '@sinclair/typebox';

/** Edgegap sends numbers in these path parts; anything else is a 400. */
const PathNumber = Type.String({ pattern: '^[0-9]{1,10}$' });

export const ContextParams = Type.Object({ request_id: Type.String({ maxLength: 128 }), security_number: PathNumber });
export const SelfStopParams = Type.Object({ request_id: Type.String({ maxLength: 128 }), access_point_id: PathNumber });
export const SelfStopQuery = Type.Object({ container_log_storage: Type.Optional(Type.String({ maxLength: 256 })) });
export const SelfStopAnswer = Type.Object({ message: Type.String() });

export const ContainerLogs = Type.Object({
  logs: Type.Optional(Type.String()),
  encoding: Type.Optional(Type.String()),
  crash_logs: Type.Optional(Type.String()),
  crash_data: Type.Optional(
    Type.Object({
      exit_code: Type.Optional(Type.Integer()),
      message: Type.Optional(Type.String()),
      restart_count: Type.Optional(Type.Integer()),
    }),
  ),
  logs_link: Type.Optional(Type.String()),
});
export type ContainerLogs = Static<typeof ContainerLogs>;

const Series = Type.Object({
  labels: Type.Array(Type.String()),
  datasets: Type.Array(Type.Number()),
  timestamps: Type.Array(Type.String()),
});

export const MetricsQuery = Type.Object({
  start_time: Type.Optional(Type.String({ maxLength: 64 })),
  end_time: Type.Optional(Type.String({ maxLength: 64 })),
  steps: Type.Optional(Type.String({ maxLength: 16 })),
  raw: Type.Optional(Type.String({ maxLength: 16 })),
});

export const MetricsResponse = Type.Object({
  total: Type.Object({
    receive_total: Series,
    transmit_total: Series,
    disk_read_total: Series,
    disk_write_total: Series,
  }),
  cpu: Series,
  mem: Series,
  network: Type.Object({ receive: Series, transmit: Series }),
});
export type MetricsResponse = Static<typeof MetricsResponse>;
