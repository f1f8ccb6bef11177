/**
 * GPS tracker on a vehicle: a correlated random walk (heading and speed change smoothly)
 * around a home point, with stops; reports latitude, longitude (degrees), speed (m/s) and
 * heading (degrees clockwise from north).
 */
import type { DeviceModel, Reading } from './model.ts';
import { round } from './model.ts';

interface GpsState {
  lat: number;
  lon: number;
  speed: number;
  heading: number;
  stopped: boolean;
}

const M_PER_DEG_LAT = 111_320;

export const gpsModel: DeviceModel<GpsState> = {
  name: 'gps',
  units: { lat: 'lat', lon: 'lon', speed: 'm/s', heading: 'deg' },
  primary: 'speed',
  scale: 10,
  init(rng) {
    // Around Aarhus, so replays and synthetic tracks land on the same map.
    return { lat: 56.15 + rng.normal(0, 0.05), lon: 10.2 + rng.normal(0, 0.08), speed: 0, heading: rng.range(0, 360), stopped: rng.chance(0.2) };
  },
  sample(s, rng, _time, dtMs): Reading {
    const dtS = dtMs / 1000;
    if (rng.chance(dtS / (s.stopped ? 60 : 300))) s.stopped = !s.stopped;
    const target = s.stopped ? 0 : 14;
    s.speed = Math.max(0, s.speed + (target - s.speed) * Math.min(1, dtS / 10) + rng.normal(0, 0.3));
    s.heading = (s.heading + rng.normal(0, 4) + 360) % 360;
    const dist = s.speed * dtS;
    const rad = (s.heading * Math.PI) / 180;
    s.lat += (dist * Math.cos(rad)) / M_PER_DEG_LAT;
    s.lon += (dist * Math.sin(rad)) / (M_PER_DEG_LAT * Math.cos((s.lat * Math.PI) / 180));
    return { lat: round(s.lat, 6), lon: round(s.lon, 6), speed: round(s.speed, 2), heading: round(s.heading, 1) };
  },
};
